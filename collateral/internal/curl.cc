#include "collateral/internal/curl.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace igvmkit::collateral::internal {
namespace {

constexpr const char* kSoname = "libcurl.so.4";

Error loadError(const std::string& what) {
  Error e = unreadable(std::string(kSoname) + ": " + what +
                       " (fetching collateral needs libcurl: Debian package libcurl4)");
  e.rule = "fetch.libcurl";
  return e;
}

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out) {
  void* symbol = dlsym(handle, name);
  out = reinterpret_cast<Fn>(symbol);
  return symbol != nullptr;
}

Result<const CurlLibrary*> load() {
  // Never closed: easy handles and libcurl's global state live as long as the process.
  void* handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return loadError(why != nullptr ? why : "cannot be loaded");
  }
  static CurlLibrary lib;
  const char* missing = nullptr;
  auto need = [&](const char* name, auto& out) {
    if (missing == nullptr && !resolve(handle, name, out)) {
      missing = name;
    }
  };
  need("curl_global_init", lib.global_init);
  need("curl_easy_init", lib.easy_init);
  need("curl_easy_cleanup", lib.easy_cleanup);
  need("curl_easy_setopt", lib.easy_setopt);
  need("curl_easy_perform", lib.easy_perform);
  need("curl_easy_getinfo", lib.easy_getinfo);
  need("curl_easy_strerror", lib.easy_strerror);
  if (missing != nullptr) {
    return loadError(std::string("has no ") + missing);
  }
  if (CURLcode rc = lib.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return loadError(std::string("curl_global_init failed: ") + lib.easy_strerror(rc));
  }
  return &lib;
}

}  // namespace

Result<const CurlLibrary*> curlLibrary() {
  static std::once_flag once;
  static Result<const CurlLibrary*> loaded = Error{};
  std::call_once(once, [] { loaded = load(); });
  return loaded;
}

}  // namespace igvmkit::collateral::internal

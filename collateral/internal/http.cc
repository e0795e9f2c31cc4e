#include "collateral/internal/http.h"

#include "collateral/internal/curl.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>

namespace igvmkit::collateral::internal {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string describe(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s"
                               : std::to_string(d.count()) + " ms";
}

struct Transfer {
  HttpResponse response;
  size_t max_body = 0;
  bool too_large = false;
  bool in_final_headers = true;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->response.body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->response.body.append(data, n);
  return n;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.clear();  // a new response (after a redirect or 100 Continue)
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    t->response.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                     trim(line.substr(colon + 1)));
  }
  return n;
}

struct Attempt {
  Result<HttpResponse> result = Error{};
  bool retry = false;
  std::optional<std::chrono::seconds> retry_after;  // the server's Retry-After, when it sent one
};

Error fetchError(const std::string& rule, const std::string& url, const std::string& what) {
  Error e = unreadable("GET " + url + ": " + what);
  e.rule = rule;
  return e;
}

std::string statusText(long code) {
  switch (code) {
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 429: return "429 Too Many Requests";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    case 504: return "504 Gateway Timeout";
    default: return std::to_string(code);
  }
}

// The media type without parameters, lowercase.
std::string mediaType(const std::string& content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::optional<std::string> contentTypeProblem(const std::string& content_type, BodyKind kind) {
  std::string type = mediaType(content_type);
  if (kind == BodyKind::kJson) {
    if (type != "application/json") {
      return "content type '" + content_type + "', expected application/json";
    }
    return std::nullopt;
  }
  if (type == "text/html" || type == "application/xhtml+xml" || type == "application/json") {
    return "content type '" + content_type + "', expected a certificate or CRL";
  }
  return std::nullopt;
}

Attempt attemptGet(const CurlLibrary& lib, const std::string& url, BodyKind kind,
                   const HttpOptions& o) {
  Attempt a;
  std::unique_ptr<CURL, decltype(lib.easy_cleanup)> curl(lib.easy_init(), lib.easy_cleanup);
  if (!curl) {
    a.result = ::igvmkit::internal("curl_easy_init failed");
    return a;
  }
  Transfer t;
  t.max_body = o.max_body;
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  lib.easy_setopt(c, CURLOPT_URL, url.c_str());
  lib.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  lib.easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
  lib.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM (threads)
  lib.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  lib.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  lib.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_body));
  lib.easy_setopt(c, CURLOPT_USERAGENT, "igvmkit");
  lib.easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  lib.easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  lib.easy_setopt(c, CURLOPT_WRITEDATA, &t);
  lib.easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  lib.easy_setopt(c, CURLOPT_HEADERDATA, &t);
  CURLcode rc = lib.easy_perform(c);
  std::string detail = error_buffer[0] != '\0' ? error_buffer : lib.easy_strerror(rc);
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      a.retry = true;
      a.result = fetchError("fetch.timeout", url,
                            "timed out after " + describe(o.timeout) + ": " + detail);
      return a;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      // A name that does not resolve (no network, a typo in --kds-url) rarely heals in seconds.
      a.result = fetchError("fetch.connect", url, "connection failed: " + detail);
      return a;
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      a.retry = true;
      a.result = fetchError("fetch.connect", url, "connection failed: " + detail);
      return a;
    case CURLE_PARTIAL_FILE:
      a.retry = true;
      a.result = fetchError("fetch.truncated", url,
                            "truncated body (" + std::to_string(t.response.body.size()) +
                                " bytes received, fewer than the Content-Length)");
      return a;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
      a.result = fetchError("fetch.too_large", url,
                            "body larger than " + std::to_string(o.max_body) + " bytes");
      if (rc == CURLE_WRITE_ERROR && !t.too_large) {
        a.result = fetchError("fetch.connect", url, detail);
      }
      return a;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      a.result = fetchError("fetch.tls", url, "TLS failure: " + detail);
      return a;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      a.result = fetchError("fetch.url", url, "not an http(s) URL: " + detail);
      return a;
    default:
      a.retry = true;
      a.result = fetchError("fetch.connect", url, detail);
      return a;
  }
  long status = 0;
  lib.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t retry_after = 0;
  // libcurl parses both forms of Retry-After (delay-seconds and HTTP-date) into seconds.
  if (lib.easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    a.retry_after = std::chrono::seconds(retry_after);
  } else if (std::optional<std::string> h = t.response.header("retry-after"); h && trim(*h) == "0") {
    a.retry_after = std::chrono::seconds(0);
  }
  if (status != 200) {
    std::string what = "HTTP " + statusText(status);
    if (status == 404) {
      a.result = fetchError("fetch.not_found", url, what);
    } else if (status == 429) {
      a.retry = true;
      a.result = fetchError("fetch.rate_limited", url, what);
    } else if (status >= 500 && status <= 599) {
      a.retry = true;
      a.result = fetchError("fetch.server_error", url, what);
    } else {
      a.result = fetchError("fetch.http_status", url, what);
    }
    return a;
  }
  char* type = nullptr;
  lib.easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  t.response.content_type = type != nullptr ? type : "";
  if (std::optional<std::string> problem = contentTypeProblem(t.response.content_type, kind)) {
    a.result = fetchError("fetch.content_type", url, *problem);
    return a;
  }
  a.result = std::move(t.response);
  return a;
}

}  // namespace

std::optional<std::string> HttpResponse::header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return v;
    }
  }
  return std::nullopt;
}

std::string percentDecode(const std::string& text) {
  auto hexValue = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const bool escape = text[i] == '%' && i + 2 < text.size();
    const int high = escape ? hexValue(text[i + 1]) : -1;
    const int low = escape ? hexValue(text[i + 2]) : -1;
    if (high >= 0 && low >= 0) {
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(text[i]);  // not an escape: kept as it is, as curl_easy_unescape does
    }
  }
  return out;
}

Result<HttpResponse> httpGet(const std::string& url, BodyKind kind, const HttpOptions& options) {
  IGVMKIT_ASSIGN_OR_RETURN(const CurlLibrary* lib, curlLibrary());
  int attempts = std::max(options.max_attempts, 1);
  std::chrono::milliseconds backoff = options.initial_backoff;
  for (int i = 1;; ++i) {
    Attempt a = attemptGet(*lib, url, kind, options);
    if (a.result.ok() || !a.retry) {
      return std::move(a.result);
    }
    Error e = std::move(a.result).error();
    if (a.retry_after && *a.retry_after > options.max_delay) {
      e.message += " (the server asks to retry after " + std::to_string(a.retry_after->count()) +
                   " s, more than the " + describe(options.max_delay) + " allowed)";
      return e;
    }
    if (i >= attempts) {
      e.message += " (" + std::to_string(i) + (i == 1 ? " attempt)" : " attempts)");
      return e;
    }
    std::chrono::milliseconds delay =
        a.retry_after ? std::chrono::duration_cast<std::chrono::milliseconds>(*a.retry_after)
                      : std::min(backoff, options.max_delay);
    backoff = std::min(backoff * 2, options.max_delay);
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace igvmkit::collateral::internal

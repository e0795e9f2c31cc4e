// collateral/internal/curl.h: libcurl, loaded by the first fetch that needs it.
//
// Linking libcurl would cost every igvmkit process about 20 ms at start-up on this machine (it
// maps some 25 more shared libraries: GnuTLS, LDAP, Kerberos, ...: four times the rest of the
// start-up), while only the commands that fetch collateral use it. So it is opened with dlopen()
// on first use and its entry points are resolved once; <curl/curl.h> still gives the types and
// constants, so a call through CurlLibrary is checked like a direct one.
#pragma once

#include <curl/curl.h>

#include "base/status.h"

namespace igvmkit::collateral::internal {

// The libcurl entry points the collateral package calls, resolved from libcurl.so.4.
struct CurlLibrary {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
};

// libcurl, loaded and globally initialised once per process (thread-safe). Error "fetch.libcurl"
// (kUnreadable) when libcurl.so.4 or one of its entry points cannot be loaded; the message names
// the Debian package that provides it. The library stays loaded for the process's lifetime.
Result<const CurlLibrary*> curlLibrary();

}  // namespace igvmkit::collateral::internal

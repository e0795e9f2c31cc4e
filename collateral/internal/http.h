// collateral/internal/http.h: one HTTP GET over libcurl with the retry, timeout, size and
// content-type rules of HttpOptions (collateral.h). Only http:// and https:// are spoken;
// redirects are followed (at most 3, same protocols).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "collateral/collateral.h"

namespace igvmkit::collateral::internal {

// What the body must be. kBinary: anything but an HTML page or a JSON document (an error page
// or a proxy's answer in place of a certificate or CRL); kJson: application/json.
enum class BodyKind { kBinary, kJson };

struct HttpResponse {
  std::string body;
  std::string content_type;                                  // as sent, "" when absent
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercase, in order

  // The first header named `name` (lowercase), or nullopt.
  std::optional<std::string> header(const std::string& name) const;
};

// GETs `url` and returns the complete 200 response. Errors (code kUnreadable, one line, naming
// the URL): rules "fetch.not_found" (404), "fetch.rate_limited" (429), "fetch.server_error"
// (5xx), "fetch.http_status" (any other non-200), "fetch.timeout", "fetch.connect", "fetch.tls",
// "fetch.truncated" (fewer bytes than Content-Length), "fetch.too_large" (over max_body),
// "fetch.content_type", "fetch.url". Retries as HttpOptions says, and the last error says how
// many attempts were made.
Result<HttpResponse> httpGet(const std::string& url, BodyKind kind, const HttpOptions& options);

// A header value with %XX escapes decoded (Intel PCS sends its issuer chains URL-encoded).
std::string percentDecode(const std::string& text);

}  // namespace igvmkit::collateral::internal

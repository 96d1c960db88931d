#include "app/zooid_transport.hpp"

namespace relayhost {

zooid_transport make_zooid_transport(std::shared_ptr<http::client> client, const http_url& api,
                                     std::chrono::seconds timeout) {
  return [client, api, timeout](zooid_request req, std::function<void(zooid_answer)> done) {
    http::client_request out;
    out.method = std::move(req.method);
    out.host = api.host;
    out.port = api.port;
    out.host_header = api.host_header;
    out.target = std::move(req.path);
    if (!req.authorization.empty())  // a real call (the probe goes without either)
      out.headers = {{"Authorization", std::move(req.authorization)}, {"Content-Type", "application/json"}};
    out.body = std::move(req.body);
    out.timeout = req.timeout.count() > 0 ? req.timeout : std::chrono::milliseconds{timeout};
    client->send(std::move(out), [done = std::move(done)](http::client_response r) {
      done(zooid_answer{r.ok ? r.status : 0, std::move(r.body), std::move(r.error)});
    });
  };
}

} // namespace relayhost

// A closed-loop HTTP load generator for NIP-98-authenticated routes: N keep-alive
// connections, each sending its next request as soon as the previous answer is in.
// Every request carries its own pre-signed token (many keys = many tenants, unique
// event ids), signed before the timed phase so signing never competes with the
// server for CPU while measuring. Reports req/s, latency percentiles and errors.
//
//   bench_loadgen --url http://127.0.0.1:8088/tenant [--method GET|POST|PUT|DELETE]
//                 [--connections 32] [--duration 10] [--threads 1] [--pool 50000]
//                 [--keys 1000] [--public-url URL] [--skew 60] [--no-auth]
//                 [--key-seed TEXT] [--body TEMPLATE] [--warmup SECONDS]
//
// --key-seed derives the keys from TEXT (key k = SHA-256("relayhost-bench:" TEXT
// ":" k)) instead of drawing them at random, so separate runs (a seeding run, then
// the timed runs) act for the same tenants. --body sets the write body: every
// "{i}" in TEMPLATE becomes the request's index, e.g.
//   --body '{"subdomain":"b{i}","name":"n","plan":"free"}'
// --warmup excludes the answers of the first SECONDS from the statistics (they
// are still sent and still use up tokens).
//
// Uniqueness: request i targets `<url>?n=i` (or `&n=i`), and a write sends the body
// {"bench":i} with its payload tag, so no two tokens share an event id. GET tokens
// are reused round-robin when the run outlasts the pool (GET has no replay check);
// a write run stops when the pool is used up (a reused write token is a replay).
// The tokens' created_at is the signing time: keep signing + duration inside the
// server's freshness window (--skew, 60 s by default), or requests turn into 401s.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <openssl/sha.h>

#include "nostr/keys.hpp"
#include "nostr/nip98.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  std::string url;
  std::string method = "GET";
  size_t connections = 32;
  double duration_s = 10;
  size_t threads = 1;
  size_t pool = 50000;
  size_t keys = 1000;
  std::string public_url;  // the server's PUBLIC_URL; default: scheme://host:port of --url
  int64_t skew = 60;
  bool sign = true;
  std::string key_seed;       // empty: random keys
  std::string body_template;  // empty: {"bench":i}
  double warmup_s = 0;
  // A response that takes longer than this counts as an error (the connection is dropped).
  std::chrono::seconds request_timeout{30};
};

constexpr std::chrono::milliseconds reconnect_delay{10};

struct parsed_url {
  std::string host;
  std::string port;
  std::string origin;  // http://host:port
  std::string target;  // path + query
};

[[noreturn]] void usage(const char* why = nullptr) {
  if (why)
    std::fprintf(stderr, "bench_loadgen: %s\n", why);
  std::fprintf(stderr,
               "usage: bench_loadgen --url http://HOST:PORT/PATH [--method M] [--connections N]\n"
               "                     [--duration SECONDS] [--threads N] [--pool N] [--keys N]\n"
               "                     [--public-url URL] [--skew SECONDS] [--no-auth]\n");
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage("missing value");
      return argv[++i];
    };
    if (a == "--url") o.url = value();
    else if (a == "--method") o.method = value();
    else if (a == "--connections") o.connections = std::stoul(value());
    else if (a == "--duration") o.duration_s = std::stod(value());
    else if (a == "--threads") o.threads = std::stoul(value());
    else if (a == "--pool") o.pool = std::stoul(value());
    else if (a == "--keys") o.keys = std::stoul(value());
    else if (a == "--public-url") o.public_url = value();
    else if (a == "--skew") o.skew = std::stoll(value());
    else if (a == "--no-auth") o.sign = false;
    else if (a == "--key-seed") o.key_seed = value();
    else if (a == "--body") o.body_template = value();
    else if (a == "--warmup") o.warmup_s = std::stod(value());
    else usage(("unknown option " + a).c_str());
  }
  if (o.url.empty())
    usage("--url is required");
  if (o.connections == 0 || o.threads == 0 || o.pool == 0 || o.keys == 0 || o.duration_s <= 0)
    usage("counts and the duration must be positive");
  if (o.warmup_s < 0 || o.warmup_s >= o.duration_s)
    usage("--warmup must be shorter than --duration");
  return o;
}

parsed_url parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    usage("only http:// URLs are supported");
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  parsed_url p;
  p.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    p.host = authority;
    p.port = "80";
  } else {
    p.host = authority.substr(0, colon);
    p.port = authority.substr(colon + 1);
  }
  if (p.host.size() > 2 && p.host.front() == '[')
    p.host = p.host.substr(1, p.host.size() - 2);
  p.origin = scheme + authority;
  return p;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool is_write(const std::string& method) {
  return method != "GET" && method != "HEAD";
}

relayhost::nostr::secret_key derived_key(const std::string& seed, size_t k) {
  for (uint32_t attempt = 0;; ++attempt) {
    std::string text = "relayhost-bench:" + seed + ":" + std::to_string(k);
    if (attempt)
      text += ":" + std::to_string(attempt);
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const uint8_t*>(text.data()), text.size(), digest);
    if (auto key = relayhost::nostr::secret_key::from_bytes(digest))
      return *key;
  }
}

std::string write_body(const options& o, size_t i) {
  if (o.body_template.empty())
    return "{\"bench\":" + std::to_string(i) + "}";
  std::string out;
  const std::string idx = std::to_string(i);
  for (size_t p = 0; p < o.body_template.size();) {
    if (o.body_template.compare(p, 3, "{i}") == 0) {
      out += idx;
      p += 3;
    } else {
      out += o.body_template[p++];
    }
  }
  return out;
}

// The complete request bytes, one per token, so the timed phase only copies pointers.
std::vector<std::string> sign_pool(const options& o, const parsed_url& u, const std::string& public_url) {
  std::vector<relayhost::nostr::secret_key> keys;
  keys.reserve(o.keys);
  for (size_t i = 0; i < o.keys; ++i)
    keys.push_back(o.key_seed.empty() ? relayhost::nostr::secret_key::generate() : derived_key(o.key_seed, i));

  const bool write = is_write(o.method);
  const char sep = u.target.find('?') == std::string::npos ? '?' : '&';
  const int64_t created_at = unix_now();
  std::vector<std::string> pool(o.pool);
  auto sign_range = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      std::string target = u.target + sep + "n=" + std::to_string(i);
      std::string body = write ? write_body(o, i) : "";
      std::string req = o.method + " " + target + " HTTP/1.1\r\nHost: " + u.host + ":" + u.port + "\r\n";
      if (o.sign)
        req += "Authorization: "
               + relayhost::nostr::nip98_authorization(keys[i % keys.size()], public_url + target, o.method, body,
                                                       created_at)
               + "\r\n";
      if (write)
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
      req += "\r\n";
      req += body;
      pool[i] = std::move(req);
    }
  };
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  size_t chunk = (o.pool + workers - 1) / workers;
  for (size_t w = 0; w < workers; ++w) {
    size_t begin = w * chunk, end = std::min(o.pool, begin + chunk);
    if (begin < end)
      threads.emplace_back(sign_range, begin, end);
  }
  for (auto& t : threads)
    t.join();
  return pool;
}

// Shared by every connection of every thread.
struct run_state {
  const std::vector<std::string>& pool;
  bool write;
  steady::time_point deadline;
  steady::time_point measure_from;  // answers to requests sent earlier are warm-up
  std::chrono::seconds request_timeout;
  std::atomic<size_t> next{0};
  std::atomic<bool> exhausted{false};
};

// Per io thread (its connections run on one thread, so no locking).
struct stats {
  uint64_t done = 0;
  uint64_t warmup = 0;  // answered during the warm-up (not in any other figure)
  uint64_t errors = 0;  // non-2xx answers plus failed connections/requests
  uint64_t transport_errors = 0;
  std::vector<uint32_t> latency_us;
  std::map<unsigned, uint64_t> statuses;
};

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(net::io_context& ioc, const tcp::resolver::results_type& endpoints, run_state& run, stats& st)
    : stream_(ioc), pause_(ioc), endpoints_(endpoints), run_(run), stats_(st) {}

  void start() { connect(); }

private:
  void connect() {
    if (steady::now() >= run_.deadline)
      return;
    // Latency runs from send(), so time spent reconnecting is in no request's latency.
    stream_.expires_after(run_.request_timeout);
    stream_.async_connect(endpoints_, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) {
        ++self->stats_.errors;
        ++self->stats_.transport_errors;
        self->retry();
        return;
      }
      self->send();
    });
  }

  // Reconnect after a failure, after a pause so a refused connection does not spin.
  void retry() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    pause_.expires_after(reconnect_delay);
    pause_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->connect();
    });
  }

  void send() {
    if (steady::now() >= run_.deadline)
      return;
    size_t i = run_.next.fetch_add(1, std::memory_order_relaxed);
    if (run_.write && i >= run_.pool.size()) {
      run_.exhausted = true;
      return;
    }
    const std::string& req = run_.pool[i % run_.pool.size()];
    started_ = steady::now();
    stream_.expires_after(run_.request_timeout);
    net::async_write(stream_, net::buffer(req), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        ++self->stats_.errors;
        ++self->stats_.transport_errors;
        self->retry();
        return;
      }
      self->read();
    });
  }

  void read() {
    parser_.emplace();
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_response(ec);
    });
  }

  void on_response(beast::error_code ec) {
    if (ec) {
      ++stats_.errors;
      ++stats_.transport_errors;
      retry();
      return;
    }
    auto status = parser_->get().result_int();
    if (started_ < run_.measure_from) {
      ++stats_.warmup;
      if (status < 200 || status > 299)
        ++stats_.errors;
    } else {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started_).count();
      stats_.latency_us.push_back(static_cast<uint32_t>(us));
      ++stats_.done;
      ++stats_.statuses[status];
      if (status < 200 || status > 299)
        ++stats_.errors;
    }
    if (!parser_->get().keep_alive()) {
      retry();
      return;
    }
    send();
  }

  beast::tcp_stream stream_;
  net::steady_timer pause_;
  const tcp::resolver::results_type& endpoints_;
  run_state& run_;
  stats& stats_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  steady::time_point started_;
};

double percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto idx = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)] / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse_options(argc, argv);
  auto u = parse_url(o.url);
  std::string public_url = o.public_url.empty() ? u.origin : o.public_url;
  if (!public_url.empty() && public_url.back() == '/')
    public_url.pop_back();

  net::io_context resolver_ioc;
  tcp::resolver resolver{resolver_ioc};
  beast::error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) {
    std::fprintf(stderr, "bench_loadgen: cannot resolve %s: %s\n", u.host.c_str(), ec.message().c_str());
    return 1;
  }

  std::printf("%s %s  connections %zu  threads %zu  duration %.1f s\n", o.method.c_str(), o.url.c_str(),
              o.connections, o.threads, o.duration_s);
  auto sign_start = steady::now();
  auto pool = sign_pool(o, u, public_url);
  double sign_s = std::chrono::duration<double>(steady::now() - sign_start).count();
  std::printf("pool: %zu requests, %s from %zu keys, built in %.2f s (%.0f tokens/s)\n", pool.size(),
              o.sign ? "signed" : "unsigned", o.keys, sign_s, static_cast<double>(pool.size()) / sign_s);
  if (o.sign && sign_s + o.duration_s > static_cast<double>(o.skew))
    std::printf("warning: signing + duration (%.0f s) exceeds the freshness window (%lld s): late requests "
                "will be 401\n",
                sign_s + o.duration_s, static_cast<long long>(o.skew));
  std::fflush(stdout);

  auto start = steady::now();
  auto after = [&](double s) {
    return start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
  };
  run_state run{pool, is_write(o.method), after(o.duration_s), after(o.warmup_s), o.request_timeout};
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<stats> per_thread(o.threads);
  for (size_t t = 0; t < o.threads; ++t)
    contexts.push_back(std::make_unique<net::io_context>(1));
  for (size_t c = 0; c < o.connections; ++c) {
    size_t t = c % o.threads;
    std::make_shared<connection>(*contexts[t], endpoints, run, per_thread[t])->start();
  }
  std::vector<std::thread> threads;
  for (size_t t = 0; t < o.threads; ++t)
    threads.emplace_back([&, t] { contexts[t]->run(); });
  for (auto& th : threads)
    th.join();
  double elapsed = std::chrono::duration<double>(steady::now() - run.measure_from).count();

  stats total;
  for (auto& s : per_thread) {
    total.done += s.done;
    total.warmup += s.warmup;
    total.errors += s.errors;
    total.transport_errors += s.transport_errors;
    total.latency_us.insert(total.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
    for (auto& [status, n] : s.statuses)
      total.statuses[status] += n;
  }
  std::sort(total.latency_us.begin(), total.latency_us.end());
  if (o.warmup_s > 0)
    std::printf("warm-up %.1f s: %llu requests (not counted below)\n", o.warmup_s,
                static_cast<unsigned long long>(total.warmup));
  std::printf("requests %llu  errors %llu (transport %llu)  elapsed %.2f s  req/s %.1f\n",
              static_cast<unsigned long long>(total.done), static_cast<unsigned long long>(total.errors),
              static_cast<unsigned long long>(total.transport_errors), elapsed,
              static_cast<double>(total.done) / elapsed);
  std::printf("latency ms  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", percentile(total.latency_us, 0.50),
              percentile(total.latency_us, 0.90), percentile(total.latency_us, 0.99),
              percentile(total.latency_us, 1.0));
  std::printf("statuses");
  for (auto& [status, n] : total.statuses)
    std::printf("  %u=%llu", status, static_cast<unsigned long long>(n));
  std::printf("\n");
  if (run.exhausted)
    std::printf("note: the write pool (%zu tokens) ran out before the duration; raise --pool\n", pool.size());
  return total.errors == 0 ? 0 : 1;
}

// NIP-98 verifier and signer.
//
// Order of checks. api.md lists: event/id/signature, kind, created_at, u, method,
// payload, replay. Every check must pass, so the order only decides which message
// wins when several fail. We run them cheapest first, so that a forged or stale
// token never costs a Schnorr verification (~50 µs, the dominant cost) and an
// unauthenticated request never makes us hash a large body:
//   1. header syntax, size bound, base64, JSON          (each its own message)
//   2. id == SHA-256 of the serialization               (cheap: one small hash)
//   3. kind, created_at, u tag, method tag              (comparisons)
//   4. signature                                        (the expensive one)
//   5. payload tag vs SHA-256 of the body               (costs O(body): after auth)
//   6. replay memory, writes only                       (only for otherwise valid
//      tokens, so failed attempts never occupy it)
// The message always names the check that failed first in THIS order; e.g. a
// forged token of the wrong kind is reported as "kind must be 27235".
#include "nostr/nip98.hpp"
#include "nostr/signer.hpp"

#include "nostr/base64.hpp"
#include "nostr/event.hpp"
#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/secp.hpp"
#include "nostr/sha256.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <unordered_set>
#include <vector>

namespace relayhost::nostr {
namespace {

// Ids are spread over this many independently locked shards, so io threads
// verifying writes at the same time rarely wait for each other.
constexpr size_t replay_shard_count = 16;

// `now` is read by each io thread before it reaches the replay memory, so two
// threads may disagree by a moment. Ids are kept this much longer than strictly
// needed so a thread with a slightly older `now` can never see an id forgotten
// that its own created_at check still accepts.
constexpr int64_t replay_clock_slack_seconds = 5;

// The longest expected URL we echo back in the u-tag message.
constexpr size_t max_echoed_url = 512;

using id_bytes = std::array<uint8_t, 32>;

uint64_t mix64(uint64_t z) {
  // splitmix64's finalizer: every input bit affects every output bit.
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Event ids are hashes, but a client can grind them; a secret per-process salt
// keeps anyone from aiming many ids at one shard or one hash bucket.
struct salted_id_hash {
  uint64_t salt;
  size_t operator()(const id_bytes& id) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, id.data(), 8);
    std::memcpy(&b, id.data() + 8, 8);
    return mix64(a ^ salt) ^ b;
  }
};

enum class remember_result { fresh, replay, full };

struct alignas(64) replay_shard {
  struct expiry {
    int64_t forget_after;
    const id_bytes* id; // points into `ids` (node-based: stable until erased)
    bool operator>(const expiry& o) const { return forget_after > o.forget_after; }
  };

  explicit replay_shard(size_t cap, uint64_t salt) : capacity(cap), ids(0, salted_id_hash{salt}) {}

  std::mutex mu;
  const size_t capacity;
  std::unordered_set<id_bytes, salted_id_hash> ids;
  std::priority_queue<expiry, std::vector<expiry>, std::greater<>> by_expiry;

  remember_result remember(const id_bytes& id, int64_t forget_after, int64_t now) {
    std::lock_guard<std::mutex> lock(mu);
    while (!by_expiry.empty() && by_expiry.top().forget_after < now) {
      const id_bytes expired = *by_expiry.top().id;
      by_expiry.pop();
      ids.erase(expired);
    }
    if (ids.find(id) != ids.end())
      return remember_result::replay;
    // Full of ids that could still be replayed: refuse this write instead of
    // forgetting one of them. The client retries; the memory drains as ids expire.
    if (ids.size() >= capacity)
      return remember_result::full;
    const id_bytes& stored = *ids.insert(id).first;
    by_expiry.push({forget_after, &stored});
    return remember_result::fresh;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return ids.size();
  }
};

nip98_outcome rejected(std::string why) {
  nip98_outcome out;
  out.error = std::move(why);
  return out;
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back()))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

const std::vector<std::string>* first_tag(const event& ev, std::string_view name) {
  for (const auto& tag : ev.tags)
    if (!tag.empty() && tag[0] == name)
      return &tag;
  return nullptr;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

} // namespace

struct nip98_verifier::impl {
  int64_t max_skew;
  std::vector<std::unique_ptr<replay_shard>> shards;
  uint64_t salt;

  replay_shard& shard_of(const id_bytes& id) const {
    const size_t h = salted_id_hash{salt ^ 0x9e3779b97f4a7c15ULL}(id);
    return *shards[h % shards.size()];
  }
};

nip98_verifier::nip98_verifier(int64_t max_skew_seconds, size_t replay_capacity) : impl_(nullptr) {
  // Bounded so that created_at ± skew and the expiry arithmetic cannot overflow.
  constexpr int64_t max_sane_skew = int64_t{1} << 40;
  if (max_skew_seconds < 0 || max_skew_seconds > max_sane_skew)
    throw std::invalid_argument("NIP-98 max skew must be between 0 and 2^40 seconds");
  if (replay_capacity == 0)
    throw std::invalid_argument("NIP-98 replay capacity must be at least 1");
  auto p = std::make_unique<impl>();
  p->max_skew = max_skew_seconds;
  random_bytes(reinterpret_cast<uint8_t*>(&p->salt), sizeof p->salt);
  // Split the capacity exactly, so the total never exceeds it.
  const size_t n = std::min(replay_shard_count, replay_capacity);
  for (size_t i = 0; i < n; ++i)
    p->shards.push_back(std::make_unique<replay_shard>(replay_capacity / n + (i < replay_capacity % n ? 1 : 0), p->salt));
  impl_ = p.release();
}

nip98_verifier::~nip98_verifier() {
  delete impl_;
}

size_t nip98_verifier::remembered_ids() const {
  size_t n = 0;
  for (const auto& s : impl_->shards)
    n += s->size();
  return n;
}

nip98_outcome nip98_verifier::verify(const nip98_check& req, int64_t now) const {
  // 1. Header syntax: `Nostr <token>`, scheme case-insensitive, any OWS between.
  const std::string_view header = trim_ows(req.authorization);
  if (header.empty())
    return rejected("missing Authorization header");
  const size_t gap = header.find_first_of(" \t");
  if (!iequals(header.substr(0, gap), "Nostr"))
    return rejected("Authorization scheme must be Nostr");
  if (gap == std::string_view::npos)
    return rejected("Authorization header has no token after the Nostr scheme");
  const std::string_view token = trim_ows(header.substr(gap));
  if (token.size() > base64_encoded_size(nip98_max_token_bytes))
    return rejected("token too large (over " + std::to_string(nip98_max_token_bytes) + " bytes)");

  thread_local std::string json; // reused: saves an allocation per request
  if (!base64_decode(token, json))
    return rejected("token is not base64");
  if (json.size() > nip98_max_token_bytes)
    return rejected("token too large (over " + std::to_string(nip98_max_token_bytes) + " bytes)");

  std::string why;
  std::optional<event> parsed = parse_event(json, &why);
  if (!parsed)
    return rejected("token is not a valid event: " + why);
  const event& ev = *parsed;

  // 2. The id is the hash of the content. (parse_event checked the hex.)
  id_bytes id;
  from_hex(ev.id, id.data(), id.size());
  if (compute_id_bytes(ev) != id)
    return rejected("event id does not match its content");

  // 3. Cheap field checks.
  if (ev.kind != nip98_kind)
    return rejected("kind must be " + std::to_string(nip98_kind));
  const int64_t skew = impl_->max_skew;
  if (ev.created_at < now - skew || ev.created_at > now + skew)
    return rejected("created_at outside ±" + std::to_string(skew) + " s");
  const auto* u = first_tag(ev, "u");
  if (u == nullptr || u->size() < 2)
    return rejected("u tag is missing");
  if ((*u)[1] != req.url) {
    std::string msg = "u tag does not match the request URL";
    if (req.url.size() <= max_echoed_url && printable_ascii(req.url))
      msg.append(" (expected ").append(req.url).append(")");
    return rejected(std::move(msg));
  }
  const auto* m = first_tag(ev, "method");
  if (m == nullptr || m->size() < 2)
    return rejected("method tag is missing");
  if (!iequals((*m)[1], req.method))
    return rejected("method tag does not match the request method");

  // 4. Signature.
  uint8_t pub[32], sig[64];
  from_hex(ev.pubkey, pub, sizeof pub);
  from_hex(ev.sig, sig, sizeof sig);
  if (!schnorr_verify(sig, id.data(), pub))
    return rejected("invalid signature");

  // 5. Body hash, only if the client sent one (NIP-98: SHOULD).
  if (const auto* p = first_tag(ev, "payload")) {
    if (p->size() < 2 || (*p)[1] != sha256_hex(req.body))
      return rejected("payload tag does not match the body hash");
  }

  // 6. Replay, for writes. The id stays remembered until its event can no longer
  //    pass the created_at check (created_at + skew), plus the clock slack.
  if (req.method != "GET" && req.method != "HEAD") {
    const int64_t forget_after = ev.created_at + skew + replay_clock_slack_seconds;
    switch (impl_->shard_of(id).remember(id, forget_after, now)) {
    case remember_result::fresh: break;
    case remember_result::replay:
      return rejected("token already used (replay); add a varying tag such as a nonce to repeat a write");
    case remember_result::full: return rejected("replay cache full; retry");
    }
  }

  nip98_outcome ok;
  ok.ok = true;
  ok.pubkey = ev.pubkey;
  return ok;
}

std::string nip98_authorization(const signer& key, std::string_view url, std::string_view method,
                                std::string_view body, int64_t created_at) {
  event ev;
  ev.kind = nip98_kind;
  ev.created_at = created_at;
  ev.tags = {{"u", std::string(url)}, {"method", std::string(method)}, {"payload", sha256_hex(body)}};
  const event signed_ev = key.sign(std::move(ev));
  return "Nostr " + base64_encode(to_json(signed_ev));
}

std::string nip98_authorization(const secret_key& key, std::string_view url, std::string_view method,
                                std::string_view body, int64_t created_at) {
  return nip98_authorization(signer(key), url, method, body, created_at);
}

} // namespace relayhost::nostr

// NIP-01 events. Parsing goes through nlohmann's SAX interface straight into the
// struct (no DOM, strings moved out of the lexer); serialization is hand-written
// because it must match JSON.stringify byte for byte and runs on every verify.
#include "nostr/event.hpp"
#include "nostr/signer.hpp"

#include "nostr/hex.hpp"
#include "nostr/keys.hpp"
#include "nostr/secp.hpp"
#include "nostr/sha256.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstring>
#include <stdexcept>

namespace relayhost::nostr {
namespace {

// ---------------------------------------------------------------- parsing

enum field : uint8_t { f_id, f_pubkey, f_created_at, f_kind, f_tags, f_content, f_sig, f_unknown };
constexpr const char* field_names[] = {"id", "pubkey", "created_at", "kind", "tags", "content", "sig"};
constexpr uint8_t all_fields = (1u << f_unknown) - 1;

field field_of(std::string_view key) {
  switch (key.size()) {
  case 2: return key == "id" ? f_id : f_unknown;
  case 3: return key == "sig" ? f_sig : f_unknown;
  case 4: return key == "kind" ? f_kind : key == "tags" ? f_tags : f_unknown;
  case 6: return key == "pubkey" ? f_pubkey : f_unknown;
  case 7: return key == "content" ? f_content : f_unknown;
  case 10: return key == "created_at" ? f_created_at : f_unknown;
  default: return f_unknown;
  }
}

// Fills an event from SAX callbacks. Depth 1 is inside the top-level object,
// 2 inside `tags`, 3 inside one tag. Values of unknown fields are skipped by
// counting their nesting in skip_.
class event_sax {
public:
  using json = nlohmann::json;

  explicit event_sax(event& ev) : ev_(ev) {}

  std::string error;

  bool complete() {
    if (seen_ == all_fields)
      return true;
    for (int f = 0; f < f_unknown; ++f)
      if (!(seen_ & (1u << f)))
        return fail(std::string("missing field ") + field_names[f]);
    return false;
  }

  bool null() { return scalar("null"); }
  bool boolean(bool) { return scalar("a boolean"); }
  bool binary(json::binary_t&) { return scalar("binary"); }

  bool number_integer(json::number_integer_t v) {
    if (skip_ > 0)
      return true;
    if (depth_ == 1)
      return integer_field(v, v < 0);
    return scalar("a number");
  }

  bool number_unsigned(json::number_unsigned_t v) {
    if (skip_ > 0)
      return true;
    if (depth_ == 1) // > int64 max cannot be in range anyway
      return integer_field(v > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v), false);
    return scalar("a number");
  }

  bool number_float(json::number_float_t, const json::string_t&) {
    if (skip_ > 0)
      return true;
    if (depth_ == 1 && (current_ == f_created_at || current_ == f_kind))
      return integer_field(0, false, /*is_float=*/true);
    return scalar("a number");
  }

  bool string(json::string_t& s) {
    if (skip_ > 0)
      return true;
    if (depth_ == 3) {
      ev_.tags.back().push_back(s);
      return true;
    }
    if (depth_ != 1)
      return scalar("a string");
    switch (current_) {
    case f_id: return hex_field(ev_.id, s, 64, "id must be 64 lowercase hex characters");
    case f_pubkey: return hex_field(ev_.pubkey, s, 64, "pubkey must be 64 lowercase hex characters");
    case f_sig: return hex_field(ev_.sig, s, 128, "sig must be 128 lowercase hex characters");
    case f_content: ev_.content = s; return true;
    case f_unknown: return true;
    default: return type_error();
    }
  }

  bool start_object(std::size_t) {
    if (skip_ > 0 || (depth_ == 1 && current_ == f_unknown)) {
      ++skip_;
      return true;
    }
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return scalar("an object");
  }

  bool end_object() {
    if (skip_ > 0)
      --skip_;
    else
      depth_ = 0;
    return true;
  }

  bool start_array(std::size_t) {
    if (skip_ > 0 || (depth_ == 1 && current_ == f_unknown)) {
      ++skip_;
      return true;
    }
    if (depth_ == 1 && current_ == f_tags) {
      depth_ = 2;
      return true;
    }
    if (depth_ == 2) {
      depth_ = 3;
      ev_.tags.emplace_back();
      return true;
    }
    return scalar("an array");
  }

  bool end_array() {
    if (skip_ > 0)
      --skip_;
    else
      --depth_;
    return true;
  }

  bool key(json::string_t& k) {
    if (skip_ > 0)
      return true;
    current_ = field_of(k);
    if (current_ == f_unknown)
      return true;
    if (seen_ & (1u << current_))
      return fail(std::string("duplicate field ") + field_names[current_]);
    seen_ |= uint8_t(1u << current_);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception& ex) {
    // ex.what() quotes the input; keep only its kind.
    error = "invalid JSON at byte " + std::to_string(position);
    if (std::strstr(ex.what(), "UTF-8") != nullptr)
      error += " (ill-formed UTF-8)";
    else if (std::strstr(ex.what(), "surrogate") != nullptr)
      error += " (invalid surrogate escape)";
    return false;
  }

private:
  bool fail(std::string why) {
    error = std::move(why);
    return false;
  }

  // A value of the wrong kind somewhere (`what` names what was found).
  bool scalar(const char* what) {
    if (skip_ > 0 || (depth_ == 1 && current_ == f_unknown))
      return true;
    if (depth_ == 0)
      return fail("event must be a JSON object");
    if (depth_ == 2)
      return fail("tags must be an array of arrays of strings");
    if (depth_ == 3)
      return fail(std::string("tag elements must be strings, found ") + what);
    return type_error();
  }

  bool type_error() {
    switch (current_) {
    case f_created_at: return fail("created_at must be an integer");
    case f_kind: return fail("kind must be an integer");
    case f_tags: return fail("tags must be an array of arrays of strings");
    default: return fail(std::string(field_names[current_]) + " must be a string");
    }
  }

  bool integer_field(int64_t v, bool negative, bool is_float = false) {
    if (current_ == f_created_at) {
      if (is_float)
        return fail("created_at must be an integer");
      if (negative || v > event_max_created_at)
        return fail("created_at out of range [0, 2^53)");
      ev_.created_at = v;
      return true;
    }
    if (current_ == f_kind) {
      if (is_float)
        return fail("kind must be an integer");
      if (negative || v > event_max_kind)
        return fail("kind out of range [0, 65535]");
      ev_.kind = static_cast<int>(v);
      return true;
    }
    if (current_ == f_unknown)
      return true;
    return type_error();
  }

  bool hex_field(std::string& dst, std::string& s, size_t len, const char* why) {
    if (!is_lower_hex(s, len))
      return fail(why);
    dst = s;
    return true;
  }

  event& ev_;
  int depth_ = 0;
  int skip_ = 0;
  field current_ = f_unknown;
  uint8_t seen_ = 0;
};

// ---------------------------------------------------------------- serialization

// 0: copy as is; 1: needs an escape; 2: first byte of a multi-byte sequence.
struct byte_class_table {
  uint8_t v[256];
  constexpr byte_class_table() : v{} {
    for (int i = 0; i < 0x20; ++i)
      v[i] = 1;
    v['"'] = 1;
    v['\\'] = 1;
    for (int i = 0x80; i < 256; ++i)
      v[i] = 2;
  }
};
constexpr byte_class_table byte_class{};

// Length of the valid UTF-8 sequence at s[i] (lead byte >= 0x80), or 0 if
// ill-formed (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(const unsigned char* s, size_t i, size_t n) {
  const unsigned char c = s[i];
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return i + k < n && s[i + k] >= lo && s[i + k] <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf)
    return cont(1) ? 2 : 0;
  if (c == 0xe0)
    return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
    return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xed)
    return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c == 0xf0)
    return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3)
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4)
    return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_integer(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

size_t tags_size_hint(const event& ev) {
  size_t n = 2;
  for (const auto& tag : ev.tags) {
    n += 3;
    for (const auto& s : tag)
      n += s.size() + 3;
  }
  return n;
}

void append_tags(std::string& out, const event& ev) {
  out.push_back('[');
  bool first_tag = true;
  for (const auto& tag : ev.tags) {
    if (!first_tag)
      out.push_back(',');
    first_tag = false;
    out.push_back('[');
    bool first = true;
    for (const auto& s : tag) {
      if (!first)
        out.push_back(',');
      first = false;
      append_json_string(out, s);
    }
    out.push_back(']');
  }
  out.push_back(']');
}

} // namespace

void append_json_string(std::string& out, std::string_view sv) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const size_t n = sv.size();
  out.push_back('"');
  size_t run = 0; // start of the pending run of bytes copied verbatim
  size_t i = 0;
  while (i < n) {
    const uint8_t cls = byte_class.v[s[i]];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      size_t len = utf8_sequence_length(s, i, n);
      if (len == 0)
        throw std::invalid_argument("string is not valid UTF-8");
      i += len;
      continue;
    }
    out.append(sv.data() + run, i - run);
    const char c = static_cast<char>(s[i]);
    switch (c) {
    case '"': out.append("\\\""); break;
    case '\\': out.append("\\\\"); break;
    case '\b': out.append("\\b"); break;
    case '\f': out.append("\\f"); break;
    case '\n': out.append("\\n"); break;
    case '\r': out.append("\\r"); break;
    case '\t': out.append("\\t"); break;
    default: {
      const char esc[6] = {'\\', 'u', '0', '0', hex_digits[s[i] >> 4], hex_digits[s[i] & 0x0f]};
      out.append(esc, sizeof esc);
    }
    }
    run = ++i;
  }
  out.append(sv.data() + run, n - run);
  out.push_back('"');
}

std::optional<event> parse_event(std::string_view json, std::string* error) {
  event ev;
  event_sax sax(ev);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(json.begin(), json.end(), &sax) && sax.complete();
  } catch (const std::exception&) {
    sax.error = "invalid JSON";
    ok = false;
  }
  if (!ok) {
    if (error != nullptr)
      *error = sax.error.empty() ? std::string("invalid JSON") : std::move(sax.error);
    return std::nullopt;
  }
  return ev;
}

std::string serialize_for_id(const event& ev) {
  std::string out;
  out.reserve(100 + ev.pubkey.size() + ev.content.size() + tags_size_hint(ev));
  out.append("[0,");
  append_json_string(out, ev.pubkey);
  out.push_back(',');
  append_integer(out, ev.created_at);
  out.push_back(',');
  append_integer(out, ev.kind);
  out.push_back(',');
  append_tags(out, ev);
  out.push_back(',');
  append_json_string(out, ev.content);
  out.push_back(']');
  return out;
}

std::array<uint8_t, 32> compute_id_bytes(const event& ev) {
  return sha256(serialize_for_id(ev));
}

std::string compute_id(const event& ev) {
  return to_hex(compute_id_bytes(ev));
}

bool id_matches(const event& ev) {
  std::array<uint8_t, 32> claimed;
  if (!from_hex(ev.id, claimed.data(), claimed.size()))
    return false;
  try {
    return compute_id_bytes(ev) == claimed;
  } catch (const std::invalid_argument&) {
    return false; // invalid UTF-8: no id can match
  }
}

bool signature_valid(const event& ev) {
  uint8_t id[32], pub[32], sig[64];
  if (!from_hex(ev.id, id, sizeof id) || !from_hex(ev.pubkey, pub, sizeof pub)
      || !from_hex(ev.sig, sig, sizeof sig))
    return false;
  return schnorr_verify(sig, id, pub);
}

bool verify_event(const event& ev) {
  return id_matches(ev) && signature_valid(ev);
}

event sign_event(event ev, const secret_key& key) {
  // One keypair derivation instead of two (pubkey, then the keypair to sign with).
  return signer(key).sign(std::move(ev));
}

std::string to_json(const event& ev) {
  std::string out;
  out.reserve(300 + ev.content.size() + tags_size_hint(ev));
  out.append("{\"id\":");
  append_json_string(out, ev.id);
  out.append(",\"pubkey\":");
  append_json_string(out, ev.pubkey);
  out.append(",\"created_at\":");
  append_integer(out, ev.created_at);
  out.append(",\"kind\":");
  append_integer(out, ev.kind);
  out.append(",\"tags\":");
  append_tags(out, ev);
  out.append(",\"content\":");
  append_json_string(out, ev.content);
  out.append(",\"sig\":");
  append_json_string(out, ev.sig);
  out.push_back('}');
  return out;
}

std::optional<std::string_view> first_tag_value(const event& ev, std::string_view name) {
  for (const auto& tag : ev.tags) {
    if (!tag.empty() && tag[0] == name) {
      if (tag.size() < 2)
        return std::nullopt;
      return std::string_view(tag[1]);
    }
  }
  return std::nullopt;
}

} // namespace relayhost::nostr

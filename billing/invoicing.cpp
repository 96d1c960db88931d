#include "billing/invoicing.hpp"

#include <cctype>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace relayhost::billing {

using json = nlohmann::json;

std::vector<period> periods_to_close(int64_t anchor, int64_t next_close, int64_t now, size_t max) {
  std::vector<period> out;
  int64_t index = 0;
  if (next_close > anchor) {
    // The period that holds the second before next_close ends at or after it.
    if (auto p = period_containing(anchor, next_close - 1))
      index = p->index;
  }
  for (auto p = period_at(anchor, index); p.end <= now && out.size() < max; p = period_at(anchor, ++index))
    out.push_back(p);
  return out;
}

int64_t next_close_after(int64_t anchor, const period& last) {
  return period_at(anchor, last.index + 1).end;
}

std::string make_invoice_params(std::string_view platform_name, int64_t amount_sats, const period& p,
                                int64_t expiry_seconds) {
  if (amount_sats <= 0 || amount_sats > std::numeric_limits<int64_t>::max() / 1000)
    throw std::overflow_error("invoice amount out of range");
  std::string name(platform_name.empty() ? "relayhost" : platform_name);
  json params{{"amount", amount_sats * 1000},
              {"description", name + " relay hosting, " + period_label(p)},
              {"expiry", expiry_seconds}};
  return params.dump();
}

namespace {
bool is_hex64(const std::string& s) {
  if (s.size() != 64)
    return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<minted_bolt11> refuse(std::string* why, const char* reason) {
  if (why)
    *why = reason;
  return std::nullopt;
}
} // namespace

std::optional<minted_bolt11> parse_make_invoice(const std::string& result_json, int64_t requested_msats,
                                                int64_t requested_expiry, std::string* why) {
  auto r = json::parse(result_json, nullptr, false);
  if (r.is_discarded() || !r.is_object())
    return refuse(why, "the result is not a JSON object");
  auto inv = r.find("invoice");
  if (inv == r.end() || !inv->is_string() || inv->get_ref<const std::string&>().empty())
    return refuse(why, "the result has no invoice");
  auto hash = r.find("payment_hash");
  if (hash == r.end() || !hash->is_string() || !is_hex64(hash->get_ref<const std::string&>()))
    return refuse(why, "the result has no 64-hex payment_hash");
  if (auto amount = r.find("amount"); amount != r.end() && !amount->is_null()) {
    if (!amount->is_number_integer() || amount->get<int64_t>() != requested_msats)
      return refuse(why, "the result's amount is not the amount asked for");
  }
  minted_bolt11 m;
  m.bolt11 = inv->get<std::string>();
  m.payment_hash = lower(hash->get<std::string>());
  m.lifetime_seconds = requested_expiry;
  auto created = r.find("created_at");
  auto expires = r.find("expires_at");
  if (created != r.end() && expires != r.end() && created->is_number_integer() && expires->is_number_integer()) {
    auto c = created->get<int64_t>(), e = expires->get<int64_t>();
    if (e > c)
      m.lifetime_seconds = e - c;
  }
  return m;
}

std::string invoice_issued_notice(std::string_view platform_name, int64_t amount_sats, const period& p,
                                  int64_t due_at, std::string_view bolt11) {
  std::string out(platform_name.empty() ? "relayhost" : platform_name);
  out += ": your invoice for relay hosting from " + period_label(p) + " is " + std::to_string(amount_sats) +
         " sats, due by " + iso_date(due_at) + ". Pay this Lightning invoice:\n\n";
  out += bolt11;
  out += "\n\nIf it has expired, GET /tenant/invoices shows a fresh one. Connect a wallet with "
         "PUT /tenant/billing to pay automatically.";
  return out;
}

} // namespace relayhost::billing

// NIP-17 DMs in NIP-59 seals and gift wraps: the layers are what the NIPs say
// (kinds, keys, tags, timestamps), they open for the recipient only, and every
// tampering is refused. nostr-tools opens them too (integration/nostr_dm_crosscheck).
#undef CAF_SUITE
#define CAF_SUITE nostr_nip59
#include <caf/test/unit_test.hpp>

#include <set>
#include <string>

#include "nostr/event.hpp"
#include "nostr/keys.hpp"
#include "nostr/nip44.hpp"
#include "nostr/nip59.hpp"

using namespace relayhost::nostr;

namespace {

constexpr int64_t now = 1760000000;

struct keys {
  secret_key sender = secret_key::generate();
  secret_key recipient = secret_key::generate();
  dm_message dm() const { return {recipient.pubkey_hex(), "Your relay was suspended: spam", now}; }
};

std::string why(const event& wrap, const secret_key& k) {
  std::string error;
  auto out = unwrap_dm(wrap, k, &error);
  return out ? "<opened>" : error;
}

} // namespace

CAF_TEST(the layers) {
  keys k;
  auto rumor = make_dm_rumor(k.sender.pubkey_hex(), k.dm());
  CAF_CHECK_EQUAL(rumor.kind, kind_dm);
  CAF_CHECK_EQUAL(rumor.pubkey, k.sender.pubkey_hex());
  CAF_CHECK_EQUAL(rumor.created_at, now);
  CAF_CHECK(rumor.sig.empty());
  CAF_CHECK(id_matches(rumor));
  CAF_REQUIRE_EQUAL(rumor.tags.size(), 1u);
  CAF_CHECK_EQUAL(rumor.tags[0][0], "p");
  CAF_CHECK_EQUAL(rumor.tags[0][1], k.recipient.pubkey_hex());

  auto wrap = wrap_dm(k.sender, k.dm());
  CAF_CHECK_EQUAL(wrap.kind, kind_gift_wrap);
  CAF_CHECK(verify_event(wrap));
  CAF_CHECK_NOT_EQUAL(wrap.pubkey, k.sender.pubkey_hex());  // a throwaway key
  CAF_REQUIRE_EQUAL(wrap.tags.size(), 1u);
  CAF_CHECK_EQUAL(wrap.tags[0][0], "p");
  CAF_CHECK_EQUAL(wrap.tags[0][1], k.recipient.pubkey_hex());
  CAF_CHECK(wrap.created_at <= now && wrap.created_at >= now - nip59_max_backdate_seconds);

  auto opened = unwrap_dm(wrap, k.recipient);
  CAF_REQUIRE(opened);
  CAF_CHECK_EQUAL(opened->sender, k.sender.pubkey_hex());
  CAF_CHECK_EQUAL(opened->rumor.content, "Your relay was suspended: spam");
  CAF_CHECK_EQUAL(opened->rumor.id, rumor.id);  // same rumor, same id
  CAF_CHECK_EQUAL(opened->seal.kind, kind_seal);
  CAF_CHECK(opened->seal.tags.empty());  // a seal names nobody
  CAF_CHECK(opened->seal.created_at <= now && opened->seal.created_at >= now - nip59_max_backdate_seconds);
}

CAF_TEST(every wrap is new: key and id) {
  keys k;
  std::set<std::string> pubkeys, ids;
  for (int i = 0; i < 10; ++i) {
    auto w = wrap_dm(k.sender, k.dm());
    pubkeys.insert(w.pubkey);
    ids.insert(w.id);
  }
  CAF_CHECK_EQUAL(pubkeys.size(), 10u);
  CAF_CHECK_EQUAL(ids.size(), 10u);
}

CAF_TEST(only the recipient opens it and tampering is refused) {
  keys k;
  auto wrap = wrap_dm(k.sender, k.dm());
  CAF_CHECK_NOT_EQUAL(why(wrap, k.sender), "<opened>");
  CAF_CHECK_NOT_EQUAL(why(wrap, secret_key::generate()), "<opened>");

  auto content = wrap;
  content.content[10] = content.content[10] == 'A' ? 'B' : 'A';
  CAF_CHECK_NOT_EQUAL(why(content, k.recipient), "<opened>");  // the signature no longer matches

  auto kind = wrap;
  kind.kind = 4;
  CAF_CHECK_NOT_EQUAL(why(kind, k.recipient), "<opened>");

  // A wrap re-signed by its holder around a seal whose author is not the rumor's.
  auto impostor = secret_key::generate();
  auto rumor = make_dm_rumor(k.sender.pubkey_hex(), k.dm());  // claims to be from sender
  auto seal = seal_rumor(rumor, impostor, k.recipient.pubkey_hex(), now);
  auto forged = gift_wrap(seal, k.recipient.pubkey_hex(), now);
  CAF_CHECK_NOT_EQUAL(why(forged, k.recipient), "<opened>");

  // A rumor whose id does not match its content.
  auto bent = rumor;
  bent.content = "something else";
  auto bent_wrap = gift_wrap(seal_rumor(bent, k.sender, k.recipient.pubkey_hex(), now), k.recipient.pubkey_hex(), now);
  CAF_CHECK_NOT_EQUAL(why(bent_wrap, k.recipient), "<opened>");

  // A seal that is not kind 13.
  auto seal12 = seal;
  seal12.kind = 12;
  seal12 = sign_event(seal12, impostor);
  CAF_CHECK_NOT_EQUAL(why(gift_wrap(seal12, k.recipient.pubkey_hex(), now), k.recipient), "<opened>");
  CAF_MESSAGE("impostor: " << why(forged, k.recipient));
}

CAF_TEST(bad input is refused before anything is built) {
  keys k;
  for (auto dm : {dm_message{"not a key", "hi", now}, dm_message{k.recipient.pubkey_hex(), "", now}}) {
    bool threw = false;
    try {
      wrap_dm(k.sender, dm);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    CAF_CHECK(threw);
  }
}

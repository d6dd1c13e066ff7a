//! Tampering: every single-bit flip of a valid ticket text is rejected, for fixed fixtures
//! (exhaustively) and for random claims (property test). Arbitrary input never panics.

use og_fixtures::{FIXTURE_NOW, sample_claims, test_signer, test_trust_store};
use og_shared::ticket::{Tag, TicketFlags, Zones};
use og_shared::{KeyId, Offer, TicketClaims, verify_qr_text};
use proptest::prelude::*;

fn all_single_bit_flips_are_rejected(text: &str) {
    let trust = test_trust_store();
    assert!(
        verify_qr_text(text.as_bytes(), &trust, FIXTURE_NOW).is_ok(),
        "the original is valid"
    );
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut m = bytes.to_vec();
            m[i] ^= 1 << bit;
            // A flip that only turns the trailing character into CR/LF is trimming, not a
            // different ticket; it still changes the text, so it must not verify either.
            assert!(
                verify_qr_text(&m, &trust, FIXTURE_NOW).is_err(),
                "flipping bit {bit} of byte {i} was accepted"
            );
        }
    }
}

#[test]
fn every_single_bit_flip_of_every_fixture_offer_is_rejected() {
    let s = test_signer();
    for (offer, serial) in [(Offer::Solo, 1), (Offer::Duo, 2), (Offer::Family, 3)] {
        all_single_bit_flips_are_rejected(&s.sign_ticket(&sample_claims(offer, serial)));
    }
}

fn arb_claims() -> impl Strategy<Value = TicketClaims> {
    (
        any::<u32>(),
        any::<u32>(),
        prop_oneof![Just(Offer::Solo), Just(Offer::Duo), Just(Offer::Family)],
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        any::<u16>(),
        0u8..8,
        any::<u8>(),
        1u8..=4,
    )
        .prop_map(
            |(event_id, serial, offer, p, a, zones, flags, generation, left)| TicketClaims {
                key_id: KeyId(0),
                event_id,
                serial,
                generation,
                offer,
                admits: left.min(offer.admits()),
                purchase_tag: Tag(p),
                account_tag: Tag(a),
                valid_from: (FIXTURE_NOW - 3600) as u32,
                valid_until: (FIXTURE_NOW + 3600) as u32,
                zones: Zones(zones),
                flags: TicketFlags(flags),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_signed_claims_round_trip_and_any_bit_flip_is_rejected(
        claims in arb_claims(),
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let s = test_signer();
        let text = s.sign_ticket(&claims);
        let trust = test_trust_store();
        let v = verify_qr_text(text.as_bytes(), &trust, FIXTURE_NOW).unwrap();
        prop_assert_eq!(v.claims, TicketClaims { key_id: s.key_id(), ..claims });
        let mut m = text.into_bytes();
        let i = pos.index(m.len());
        m[i] ^= 1 << bit;
        prop_assert!(verify_qr_text(&m, &trust, FIXTURE_NOW).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_are_never_accepted(input in proptest::collection::vec(any::<u8>(), 0..700)) {
        prop_assert!(verify_qr_text(&input, &test_trust_store(), FIXTURE_NOW).is_err());
    }

    #[test]
    fn arbitrary_text_with_our_prefix_is_never_accepted(body in "[0-9A-Z $%*+./:-]{140,160}") {
        let text = format!("OG1:{body}");
        prop_assert!(verify_qr_text(text.as_bytes(), &test_trust_store(), FIXTURE_NOW).is_err());
    }
}

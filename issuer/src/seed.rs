//! The demo catalogue written into an empty database on first start, so that a newcomer can
//! browse and buy within minutes. Sessions are placed relative to the moment of seeding: the
//! first one's doors are already open (a gate can admit its tickets right away), the others
//! follow over the next days.

use crate::store::sql::Transaction;

use crate::error::AppResult;
use crate::store::{Db, events, offers};

struct DemoEvent {
    sport: &'static str,
    name: &'static str,
    venue: &'static str,
    /// The venue's street address (shown on the event page and the ticket).
    address: &'static str,
    zones: &'static [&'static str],
    /// Day offset from the seeding day and start hour offset from the seeding time.
    day: i64,
    hour: i64,
    capacity: i64,
    /// Prices in euros for Solo, Duo, Family.
    prices: [i64; 3],
}

const DEMO: &[DemoEvent] = &[
    DemoEvent {
        sport: "Athletics",
        name: "Men's 100m Final",
        venue: "Stade de France",
        address: "ZAC du Cornillon Nord, 93216 Saint-Denis, France",
        zones: &["North", "South", "East", "West"],
        day: 0,
        hour: 2,
        capacity: 77_000,
        prices: [85, 160, 300],
    },
    DemoEvent {
        sport: "Swimming",
        name: "Women's 200m Freestyle Final",
        venue: "Paris La Défense Arena",
        address: "99 Jardins de l'Arche, 92000 Nanterre, France",
        zones: &["Lower Bowl", "Upper Bowl"],
        day: 1,
        hour: 0,
        capacity: 15_000,
        prices: [95, 180, 340],
    },
    DemoEvent {
        sport: "Judo",
        name: "Mixed Team Final",
        venue: "Champ-de-Mars Arena",
        address: "2 Place Joffre, 75007 Paris, France",
        zones: &["General"],
        day: 1,
        hour: 4,
        capacity: 8_000,
        prices: [50, 90, 160],
    },
    DemoEvent {
        sport: "Basketball",
        name: "Men's Gold Medal Game",
        venue: "Bercy Arena",
        address: "8 Boulevard de Bercy, 75012 Paris, France",
        zones: &["Courtside", "Lower", "Upper"],
        day: 2,
        hour: 3,
        capacity: 15_000,
        prices: [120, 230, 440],
    },
    DemoEvent {
        sport: "Fencing",
        name: "Women's Sabre Individual Final",
        venue: "Grand Palais",
        address: "3 Avenue du Général Eisenhower, 75008 Paris, France",
        zones: &["General"],
        day: 2,
        hour: 6,
        capacity: 6_500,
        prices: [60, 110, 200],
    },
    DemoEvent {
        sport: "Beach Volleyball",
        name: "Women's Semi-finals",
        venue: "Eiffel Tower Stadium",
        address: "Parc du Champ-de-Mars, 75007 Paris, France",
        zones: &["North Stand", "South Stand"],
        day: 3,
        hour: 1,
        capacity: 12_860,
        prices: [70, 130, 240],
    },
    DemoEvent {
        sport: "Rugby Sevens",
        name: "Men's Final",
        venue: "Stade de France",
        address: "ZAC du Cornillon Nord, 93216 Saint-Denis, France",
        zones: &["North", "South", "East", "West"],
        day: 3,
        hour: 5,
        capacity: 69_000,
        prices: [75, 140, 260],
    },
    DemoEvent {
        sport: "Tennis",
        name: "Men's Singles Final",
        venue: "Roland-Garros Stadium",
        address: "2 Avenue Gordon Bennett, 75016 Paris, France",
        zones: &["Court Philippe-Chatrier"],
        day: 4,
        hour: 2,
        capacity: 15_000,
        prices: [150, 290, 560],
    },
    DemoEvent {
        sport: "Cycling Track",
        name: "Men's Keirin Final",
        venue: "Saint-Quentin-en-Yvelines Velodrome",
        address: "1 Rue Laurent Fignon, 78180 Montigny-le-Bretonneux, France",
        zones: &["General"],
        day: 4,
        hour: 5,
        capacity: 5_000,
        prices: [55, 100, 180],
    },
    DemoEvent {
        sport: "Handball",
        name: "Women's Bronze Medal Match",
        venue: "Pierre Mauroy Stadium",
        address: "261 Boulevard de Tournai, 59650 Villeneuve-d'Ascq, France",
        zones: &["Lower", "Upper"],
        day: 5,
        hour: 1,
        capacity: 26_000,
        prices: [40, 75, 140],
    },
    DemoEvent {
        sport: "Table Tennis",
        name: "Mixed Doubles Final",
        venue: "South Paris Arena 4",
        address: "1 Place de la Porte de Versailles, 75015 Paris, France",
        zones: &["General"],
        day: 5,
        hour: 4,
        capacity: 6_650,
        prices: [50, 90, 160],
    },
    DemoEvent {
        sport: "Football",
        name: "Women's Gold Medal Match",
        venue: "Parc des Princes",
        address: "24 Rue du Commandant Guilbaud, 75016 Paris, France",
        zones: &["Auteuil", "Boulogne", "Paris", "Borelli"],
        day: 6,
        hour: 3,
        capacity: 48_000,
        prices: [65, 120, 220],
    },
];

/// Seeds the demo catalogue if there are no events yet. Returns how many events were added.
pub fn seed_if_empty(db: &Db, now: i64) -> AppResult<usize> {
    db.write_sync(|tx| seed_in(tx, now))
}

fn seed_in(tx: &Transaction<'_>, now: i64) -> AppResult<usize> {
    let existing = events::count(tx)?;
    if existing > 0 {
        return Ok(0);
    }
    // Start at the top of the hour so the catalogue reads naturally.
    let base = now - now.rem_euclid(3600);
    for e in DEMO {
        let starts_at = base + e.day * 86_400 + e.hour * 3600;
        let doors_open = if e.day == 0 { now - 1800 } else { starts_at - 2 * 3600 };
        let doors_close = starts_at + 4 * 3600;
        let zones = serde_json::to_string(e.zones).expect("zones serialise");
        let event_id = events::insert(
            tx,
            &events::Fields {
                sport: e.sport,
                name: e.name,
                venue: e.venue,
                starts_at,
                doors_open,
                doors_close,
                capacity: e.capacity,
                zones: &zones,
                sales_open_at: None,
                sales_close_at: None,
                refund_deadline: None,
                transfer_deadline: None,
                time_zone: "Europe/Paris",
                venue_address: e.address,
            },
        )?;
        for (kind, euros) in ["solo", "duo", "family"].iter().zip(e.prices) {
            offers::insert(tx, event_id, kind, euros * 100)?;
        }
    }
    Ok(DEMO.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalogue_has_a_dozen_sessions_with_three_offers_each_and_is_seeded_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.sqlite3")).unwrap();
        assert_eq!(seed_if_empty(&db, 1_750_000_000).unwrap(), 12);
        assert_eq!(seed_if_empty(&db, 1_750_000_000).unwrap(), 0);
        let conn = rusqlite::Connection::open(dir.path().join("s.sqlite3")).unwrap();
        let offers: i64 = conn.query_row("SELECT count(*) FROM offers", [], |r| r.get(0)).unwrap();
        assert_eq!(offers, 36);
        let venues: i64 = conn
            .query_row("SELECT count(DISTINCT venue) FROM events", [], |r| r.get(0))
            .unwrap();
        assert!(venues >= 5);
        let open_now: i64 = conn
            .query_row(
                "SELECT count(*) FROM events WHERE doors_open <= ?1 AND doors_close >= ?1",
                [1_750_000_000i64],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(open_now, 1, "one session admits right away for the demo");
    }
}

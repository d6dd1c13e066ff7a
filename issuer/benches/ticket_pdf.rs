//! The order confirmation's PDF: what one costs to write (the largest CPU cost of a paid order,
//! rendered on the low-priority thread while buyers keep checking out). A realistic page: the
//! ticket's details in a long-enough language, and a QR code of a real ticket's length (`OG2:`
//! and 150 Base45 characters, version 6 at level M, as the gate reads it). One page and an order of
//! four; the size of each PDF is printed once.
//!
//! Run: `cargo bench -p og-issuer --bench ticket_pdf`

use criterion::{Criterion, criterion_group, criterion_main};
use og_issuer::shop::ticket_pdf::{SheetCode, TicketSheet, render};

fn sheet(serial: usize) -> TicketSheet {
    // A real ticket's code is `OG2:` and the Base45 of its 100 signed bytes (150 characters).
    let code: String = "7Q-ZB4.SK2%*9PDFUB4:1$M0 F$T".repeat(6).chars().take(150).collect();
    TicketSheet {
        lang: "fr".into(),
        heading: "Billet électronique".into(),
        number: format!("Billet {serial}"),
        event: "Athlétisme : finale du 100 m hommes".into(),
        sport: "Athlétisme".into(),
        rows: vec![
            ("Date".into(), "samedi 3 août 2024, 21:50 (heure de Paris)".into()),
            ("Ouverture des portes".into(), "19:30".into()),
            (
                "Lieu".into(),
                "Stade de France, ZAC du Cornillon Nord, 93200 Saint-Denis".into(),
            ),
            ("Offre".into(), "Solo, admet 1 personne".into()),
            ("Titulaire".into(), "Léa Martin-Ødegård".into()),
            ("Billet".into(), serial.to_string()),
        ],
        code: SheetCode::Qr {
            text: format!("OG2:{code}"),
            caption: "Présentez ce code à l'entrée, imprimé ou sur votre téléphone".into(),
        },
        entry_title: "Comment entrer".into(),
        entry_lines: vec![
            "Présentez cette page à l'entrée, imprimée ou sur votre téléphone.".into(),
            "Un code fait entrer une fois les personnes de son offre.".into(),
        ],
        footer: "og-tickets : conditions de vente et confidentialité sur le site".into(),
    }
}

fn bench(c: &mut Criterion) {
    let one = [sheet(1002)];
    let four: Vec<TicketSheet> = (1002..1006).map(sheet).collect();
    for (name, sheets) in [("one ticket", &one[..]), ("an order of four", &four[..])] {
        let bytes = render("Commande 1", sheets).expect("the PDF is made").len();
        println!("ticket PDF, {name}: {bytes} bytes");
        c.bench_function(&format!("ticket PDF, {name}"), |b| {
            b.iter(|| render("Commande 1", std::hint::black_box(sheets)).expect("the PDF is made"))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

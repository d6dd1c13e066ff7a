# Tous les mots que la porte montre à son personnel, en français. Les clés sont les mêmes dans
# chaque langue (gate-agent/src/i18n.rs le vérifie), et les arguments portent les mêmes noms.

## Verdicts (en grand sur le kiosque, le bloc en tête de ligne au terminal)
headline-admit = ENTRÉE
headline-admit-party = ENTRÉE { $people } - { $offer }
headline-admit-person = ENTRÉE - personne { $k } sur { $n }
headline-exit = SORTIE
headline-reject = REFUSÉ

## Offres
offer-solo = Solo
offer-duo = Duo
offer-family = Famille
offer-unknown = billet

## Qui une entrée laisse passer
admit-all = { $offer } : les { $n } personnes
admit-some = { $offer } : { $people } personnes ({ $inside } sur { $n } déjà entrées)
admit-person = { $offer } : personne { $k } sur { $n }
admit-one = { $offer } : 1 personne
party-people = { $n } personnes
party-person = personne { $k } sur { $n }

## Pourquoi un code est refusé, et que faire
reason-already-used = déjà utilisé
reason-already-used-at = déjà utilisé ({ $when }, porte { $gate })
reason-exit = sortie enregistrée
reason-not-yet-valid = billet pas encore valable
reason-expired = billet expiré
reason-data-too-old = liste des billets trop ancienne : connectez la porte ou importez un paquet récent
reason-not-provisioned = porte non configurée : enrôlez-la ou importez un paquet
reason-not-genuine = faux billet (signature refusée)
reason-unsupported-version = billet d'un système plus récent : mettez cette porte à jour
reason-not-a-ticket = ce code n'est pas un billet
reason-stale-code = code photographié : ouvrez le billet sur le téléphone
reason-code-from-future = l'horloge du téléphone est fausse : mettez le téléphone à l'heure automatique, puis présentez de nouveau le billet
reason-bad-device-signature = code pas créé par le téléphone de ce billet : ouvrez-le sur ce téléphone
reason-phone-required = cet événement exige le billet ouvert sur le téléphone
reason-wrong-event = billet de l'événement { $event }, pas de cette porte
reason-wrong-zone = billet non valable en zone { $zone }
reason-wrong-zone-any = billet non valable dans la zone de cette porte
reason-revoked-ticket = billet annulé
reason-revoked-purchase = achat annulé (remboursé ou annulé)
reason-revoked-account = compte de l'acheteur bloqué
reason-revoked-superseded = ancien code : ce billet a été transféré ou réémis, demandez le nouveau code
reason-revoked-device-key = ce téléphone a été remplacé : ouvrez le billet sur le nouveau téléphone
reason-revoked = billet annulé
reason-refused = refusé
reason-no-code = aucun code QR trouvé

## La suite d'une ligne de verdict
line-ticket = billet { $serial } ({ $offer })
line-ticket-serial = billet { $serial }
line-offline = hors ligne
line-same-code = même code, déjà compté
line-conflict = CONFLIT : utilisé à plusieurs portes, appelez un superviseur

## Le kiosque avant le premier passage
kiosk-ready = PRÊT
kiosk-waiting = en attente du premier billet

## Le bandeau rouge (kiosque et état)
banner-never-updated = LISTE DES BILLETS JAMAIS MISE À JOUR : connectez la porte ou importez un paquet
banner-too-old = LISTE DES BILLETS VIEILLE DE { $age } : connectez la porte ou importez un paquet récent
banner-clock-off = HORLOGE DÉCALÉE DE { $offset } : { $words }
banner-sync-refused = DONNÉES DE L'ÉMETTEUR REFUSÉES, PRÉVENEZ UN OPÉRATEUR : { $why }
clock-matches = l'horloge de cette porte est à l'heure de l'émetteur
clock-behind = cette porte retarde de { $duration } sur l'émetteur
clock-ahead = cette porte avance de { $duration } sur l'émetteur

## Durées et heures locales
duration-seconds = { $n } s
duration-minutes = { $n } min
duration-hours = { $h } h { $mm } min
duration-days = { $n ->
    [one] { $n } jour
   *[other] { $n } jours
}
# $hh : heure 00-23, $h : heure 0-23, $mm : minutes 00-59
time-of-day = { $h } h { $mm }
date-and-time = { $weekday } { $day } { $month }, { $time }
weekday-1 = lun.
weekday-2 = mar.
weekday-3 = mer.
weekday-4 = jeu.
weekday-5 = ven.
weekday-6 = sam.
weekday-7 = dim.
month-1 = janv.
month-2 = févr.
month-3 = mars
month-4 = avr.
month-5 = mai
month-6 = juin
month-7 = juil.
month-8 = août
month-9 = sept.
month-10 = oct.
month-11 = nov.
month-12 = déc.

## `gate-agent status`
status-not-set-up = Cette porte n'est pas configurée : enrôlez-la (`gate-agent enroll`) ou importez un paquet.
status-gate = Porte { $gate }
status-device = , appareil { $device }
status-deployment = , déploiement { $deployment }
status-settings = Zone : { $zone }. Billets de groupe : { $party }. Heures locales : { $tz }.
status-every-zone = toutes les zones
status-zone-only = zone { $zone } seulement
status-party-one-per-scan = une personne par passage
status-party-whole = un passage fait entrer tout le groupe
status-issuer = Émetteur : { $url }
status-issuer-no-credential = Émetteur : { $url } (pas d'identifiant d'appareil : enrôlez de nouveau pour synchroniser)
status-issuer-none = Émetteur : aucun (configurée par paquet ; les mises à jour viennent en important des paquets)
status-device-revoked = APPAREIL RÉVOQUÉ PAR L'ÉMETTEUR : enrôlez de nouveau cette porte.
status-data = Données des billets : mise à jour { $when } (il y a { $ago }), révocations jusqu'au numéro { $seq }.
status-data-never = Données des billets : jamais mises à jour.
status-clock = Horloge : { $words } (à la dernière synchronisation) ; les codes des téléphones doivent être à { $tolerance } près.
status-clock-never = Horloge : pas encore comparée à l'émetteur ; les codes des téléphones doivent être à { $tolerance } près.
status-last-sync = Dernière synchronisation : { $when } (il y a { $ago }).
status-last-sync-never = Dernière synchronisation : jamais.
status-sync-error-issuer = Dernière erreur de synchronisation : { $url } : { $error }
status-sync-error = Dernière erreur de synchronisation : { $error }
status-sync-error-none = Dernière erreur de synchronisation : aucune.
status-queue = File d'attente : { $n ->
    [one] { $n } rapport
   *[other] { $n } rapports
} à envoyer.
status-queue-held = File d'attente : { $n ->
    [one] { $n } rapport
   *[other] { $n } rapports
} à envoyer ({ $held } retenus, { $refused } refusés par l'émetteur).
status-admitted = Entrées aujourd'hui : { $today ->
    [one] { $today } personne
   *[other] { $today } personnes
} ({ $all } en tout, { $other } à d'autres portes).
status-data-held = Données : { $keys ->
    [one] { $keys } clé
   *[other] { $keys } clés
}, { $events ->
    [one] { $events } événement
   *[other] { $events } événements
}, { $revocations ->
    [one] { $revocations } révocation
   *[other] { $revocations } révocations
}.
status-warning = ATTENTION : { $banner }
status-conflict = CONFLIT : billet { $serial } de l'événement { $event } entré { $admitted } fois (il en admet { $allowed }) à { $gates } : appelez un superviseur.
status-sync-refused = DONNÉES DE L'ÉMETTEUR REFUSÉES (révocations conservées, prévenez un opérateur) : { $why }

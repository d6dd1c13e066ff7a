# og-tickets : ce que lisent les acheteurs, en français.
# Chaque clé doit exister dans chaque autre locales/<langue>/main.ftl (un test le vérifie).

language-name = Français

## Nombres, argent, dates (jour 1 = lundi)

number-decimal-separator = ,
number-group-separator = {"\u202F"}
colon = {"\u00A0"}:
money = { $amount }{"\u00A0"}€
weekday-short = { $n ->
    [1] lun.
    [2] mar.
    [3] mer.
    [4] jeu.
    [5] ven.
    [6] sam.
   *[7] dim.
}
month-short = { $n ->
    [1] janv.
    [2] févr.
    [3] mars
    [4] avr.
    [5] mai
    [6] juin
    [7] juil.
    [8] août
    [9] sept.
    [10] oct.
    [11] nov.
   *[12] déc.
}
date = { $weekday } { $day } { $month } { $year }
time = { $hour } h { $minute }
zone-city = heure de { $city }
datetime = { $date }, { $time } ({ $zone })
time-in-zone = { $time } ({ $zone })

## Mise en page

skip-to-content = Aller au contenu
nav-label = Principal
nav-events = Événements
nav-cart = Panier
nav-orders = Commandes
nav-tickets = Mes billets
nav-log-out = Se déconnecter
nav-log-in = Se connecter
nav-sign-up = Créer un compte
language-switcher = Langue
footer-text = Boutique de démonstration og-tickets · billets électroniques signés Ed25519, contrôlés hors ligne à l’entrée.

## Problèmes

problem-title = Problème
problem-client = Cela n’a pas fonctionné
problem-server = Une erreur s’est produite
back-to-events = Retour aux événements
refused-title = Refusé
csrf-refused = Requête refusée : ce formulaire ne vient pas d’une page de ce site.
csrf-retry = Revenez en arrière, rechargez la page et réessayez.

## Catalogue et événement

events-title = Événements
events-filter-label = Filtrer les événements
events-sport = Sport
events-all-sports = Tous les sports
events-day = Jour
events-all-days = Tous les jours
events-venue = Lieu
events-all-venues = Tous les lieux
events-show = Afficher
events-none = Aucun événement ne correspond à ces filtres.
seats-left = { $left } places restantes sur { $capacity }
seats-left-of = places restantes sur { $capacity }
price-from = À partir de { $price }
choose-tickets = Choisir des billets
choose-tickets-for = Choisir des billets pour { $event }
see-the-event = Voir l’événement
all-events = ← Tous les événements
doors-open = Ouverture des portes : { $time }
venue-address = Adresse :
offers = Offres
offer-name = { $kind ->
    [solo] Solo
    [duo] Duo
    [family] Famille
   *[other] { $kind }
}
admits-people = { $count ->
    [one] pour { $count } personne
   *[other] pour { $count } personnes
}
places-left = { $left } place(s) restante(s) sur { $admits }
price-per-ticket = { $price } le billet
sold-out = Complet
offer-tickets-left = { $left } billets restants à ce tarif
quantity = Quantité
add-to-cart = Ajouter { $offer } au panier
sale-open = En vente jusqu’au { $until }.
sale-not-yet = Pas encore en vente : ouverture des ventes le { $opens }.
sale-closed = Les ventes sont closes pour cet événement.
sale-cancelled = Cet événement est annulé. Ses billets ne permettent plus d’entrer ; les acheteurs sont remboursés automatiquement.

## Panier

cart-title = Votre panier
cart-empty = Votre panier est vide.
cart-browse = Voir les événements.
col-event = Événement
col-offer = Offre
col-price = Prix
col-qty = Qté
col-order = Commande
col-placed = Passée le
col-status = État
cart-offer = { $offer } (pour { $admits })
cart-update = Mettre à jour
total = Total
cart-remove-hint = Mettez une quantité à 0 pour retirer une ligne.
cart-checkout = Commander et payer { $total }
cart-log-in = Se connecter pour commander
cart-or = ou
cart-create-account = créer un compte

## Comptes

field-email = Adresse e-mail
field-name = Nom sur vos billets
field-password = Mot de passe
field-new-password = Nouveau mot de passe
password-help = 8 à 128 caractères. Une longue phrase est idéale.
signup-title = Créer un compte
signup-submit = Créer le compte
signup-already = Déjà inscrit ?
check-mail-title = Consultez vos e-mails
check-mailbox = Consultez votre boîte de réception
signup-sent = Nous avons envoyé un lien pour terminer l’inscription. Il est valable 48 heures.
signup-demo = Mode démo : aucun serveur de messagerie n’est configuré, l’e-mail a donc été écrit dans { $dir } et le lien d’activation figure dans le journal de l’émetteur.
activate-title = Activer votre compte
activate-one-click = Un clic et votre compte est prêt.
activate-submit = Activer mon compte
activated-title = Compte activé
activated-text = Votre compte est actif. Connectez-vous pour acheter des billets.
forgot-title = Mot de passe oublié ?
forgot-submit = M’envoyer un lien de réinitialisation
forgot-sent = Si cette adresse a un compte, nous lui avons envoyé un lien pour réinitialiser le mot de passe.
reset-title = Choisir un nouveau mot de passe
save = Enregistrer
password-changed-title = Mot de passe modifié
password-changed-text = Votre mot de passe est modifié et vos autres sessions sont terminées.

## Commandes et paiement

orders-title = Vos commandes
orders-none = Aucune commande pour l’instant.
order-title = Commande n° { $id }
order-status-label = État :
order-status = { $status ->
    [pending] en attente
    [paid] payée
    [cancelled] annulée
    [refunded] remboursée
   *[other] { $status }
}
order-paid = Payée. Vos billets sont prêts.
order-see-tickets = Voir mes billets
order-tickets-pdf = Billets en PDF
order-waiting = En attente du paiement. Les places sont réservées jusqu’au { $until }.
order-tickets = Billets
order-cancel = Annuler cette commande
order-refund-until = Vous pouvez vous faire rembourser cette commande jusqu’au { $until }.
order-refund = Rembourser cette commande…
order-no-refund = Pas de remboursement : { $why }.
refund-ask-title = Rembourser la commande n° { $id } ?
refund-page-title = Rembourser la commande n° { $id }
refund-ask-text = { $count ->
    [one] Votre billet cessera de fonctionner à toutes les entrées à la fois, et { $amount } vous sera rendu sur la carte utilisée. C’est irréversible.
   *[other] Vos { $count } billets cesseront de fonctionner à toutes les entrées à la fois, et { $amount } vous sera rendu sur la carte utilisée. C’est irréversible.
}
refund-yes = Oui, rembourser la commande n° { $id }
refund-no = Non, garder mes billets
pay-title = Paiement
pay-amount = Payer { $amount }
pay-banner = OG Pay · mode test · page de paiement hébergée
pay-payment-for = Paiement { $payment } pour la commande n° { $order }
pay-card-number = Numéro de carte
pay-expiry = Expiration (MM/AA)
pay-cvc = Cryptogramme
pay-test-cards = Cartes de test : { $ok } est acceptée, { $declined } est refusée. N’importe quelle date et cryptogramme.
pay-declined = La dernière carte a été refusée. Essayez une autre carte.

## Billets

ticket-number = Billet n° { $serial }
ticket-qr-label = QR code du billet
ticket-given-to = donné à { $email } le { $when }
ticket-used-of = utilisé { $used } fois sur { $admits }
ticket-state-valid = valable
ticket-state-refunded = remboursé
ticket-state-cancelled = événement annulé : remboursement dû
ticket-state-revoked = révoqué ({ $reason ->
    [fraud] fraude présumée
    [account_banned] compte fermé
    [transferred] donné à quelqu’un
   *[other] par l’organisateur
})
explain-refunded = Remboursé : ce billet ne permet plus d’entrer.
explain-cancelled = L’événement a été annulé : ce billet ne permet plus d’entrer, l’argent est dû à l’acheteur.
explain-account-closed = Le compte qui le détenait a été fermé : ce billet ne permet plus d’entrer.
explain-fraud = Révoqué par l’organisateur (fraude présumée).
explain-transferred = Donné à quelqu’un d’autre : ce code ne permet plus d’entrer.
explain-revoked = Révoqué par l’organisateur : ce billet ne permet plus d’entrer.
tickets-none = Pas encore de billet.
tickets-find-event = Trouver un événement.
tickets-needs-phone = Cet événement demande le billet ouvert sur votre téléphone.
tickets-show = Afficher le billet n° { $serial }
tickets-no-longer-valid = N’est plus valable
tickets-given-away = Billets que vous avez donnés
tickets-given-line = donné à { $email } le { $when } ({ $places ->
    [one] { $places } place
   *[other] { $places } places
}). Votre code pour ce billet ne fonctionne plus.
brightness-hint = Montez la luminosité de l’écran avant d’arriver à l’entrée.
holder-label = Titulaire :
holder = Titulaire
download-png = Télécharger en PNG
print-hint = Imprimez cette page pour une copie papier.
needs-phone-notice = Cet événement demande le billet ouvert sur votre téléphone : une photo, une impression ou un téléchargement du code est refusé à l’entrée.
ticket-pdf-download = Télécharger le billet en PDF
use-this-phone = Utiliser ce téléphone comme billet
phone-shows-now = Un téléphone affiche ce billet en ce moment.
phone-code-explained = Sur votre téléphone, le code change toutes les quelques secondes et fonctionne hors ligne à l’entrée ; une capture d’écran cesse de fonctionner en moins d’une minute.
used-at = Utilisé à { $gate }, { $when }
give-title = Donner ce billet à quelqu’un
give-possible-until = Possible jusqu’au { $until }. La personne doit avoir un compte activé et reçoit un nouveau code pour { $left ->
    [one] la place restante
   *[other] les { $left } places restantes
} ; votre code cesse de fonctionner.
give-their-email = Son adresse e-mail
continue = Continuer
give-not-possible = Impossible : { $why }.
give-ask-title = Donner le billet n° { $serial } à { $email } ?
give-ask-text = { $email } reçoit un nouveau code pour les { $left } place(s) restante(s) de ce billet { $offer } (sans compte, la personne est invitée par e-mail à le réclamer). Dès qu’elle l’a, votre code cesse de fonctionner et le billet ne peut plus être remboursé.
give-yes = Oui, le donner à { $email }
give-no = Non, le garder
ticket-sent = Billet envoyé
ticket-sent-text = Billet envoyé : la personne le reçoit tout de suite si elle a un compte, sinon une invitation par e-mail pour le réclamer.
back-to-tickets = Retour à mes billets
claim-title = Réclamer un billet
claim-log-in-first = Quelqu’un vous a donné un billet. Connectez-vous avec l’adresse à laquelle l’invitation a été envoyée (ou créez d’abord un compte avec elle, puis revenez à ce lien).
claim-heading = Réclamez votre billet
claim-text = Le billet sera à vous, avec son propre code ; la personne qui l’a donné ne peut plus l’utiliser.
claim-submit = Prendre le billet

## Le billet sur téléphone (phone.js les affiche, envoyés dans la page)

phone-title = Mon billet sur téléphone
phone-app-name = og-tickets : mon billet
phone-app-short-name = Billet
phone-explained = Votre téléphone affiche un code qui change toutes les { $period } secondes, signé par une clé qui ne quitte jamais ce téléphone. Une capture d’écran ou une copie cesse de fonctionner en moins d’une minute, et le code fonctionne sans réseau à l’entrée.
phone-another-shows = Un autre téléphone affiche ce billet en ce moment. Utiliser celui-ci arrête l’autre à la prochaine mise à jour des entrées ; un billet peut passer sur un autre téléphone { $max } fois.
phone-needs-js = Le billet sur téléphone a besoin de JavaScript : activez-le pour ce site.
phone-back = Retour au billet
phone-code-label = Code du billet qui change
phone-code-of = Code de
phone-changes-every = Il change toutes les { $period } s : une barre qui bouge indique un code vivant, pas une image.
phone-creating-key = Création de la clé de ce téléphone…
phone-session-ended = Votre session est terminée : reconnectez-vous, puis revenez sur cette page.
phone-bind-failed = Ce téléphone n’a pas pu être associé : { $why }.
phone-issuer-answered = le serveur a répondu { $status }
phone-replaced-done = C’est fait : le téléphone utilisé avant n’affiche plus ce billet.
phone-no-crypto = Ce navigateur ne peut pas garder de clé de billet : ouvrez cette page dans un navigateur récent, en https.
phone-moved-away = Ce billet est passé sur un autre téléphone : celui-ci ne l’affiche plus.
phone-went-wrong = Une erreur s’est produite : { $why }
phone-too-many-rebinds = ce billet a déjà changé de téléphone autant de fois que permis ({ $max } fois) : gardez le téléphone qui l’affiche, ou contactez l’organisateur

## E-mails (texte brut ; l’alternative HTML est ce texte dans le cadre commun)

mail-amount = { $units },{ $cents } EUR
mail-activate-subject = Activez votre compte og-tickets
mail-activate-body =
    Bienvenue !

    Ouvrez ce lien dans les 48 heures pour activer votre compte :

    { $link }

    Si vous ne vous êtes pas inscrit, ignorez cet e-mail.
mail-activate-again-body =
    Bonjour,

    Comme vous l’avez demandé à notre assistance, voici un nouveau lien pour activer votre compte (valable 48 heures) :

    { $link }

    Si vous ne l’avez pas demandé, ignorez cet e-mail.
mail-signup-exists-subject = Quelqu’un a essayé de s’inscrire avec votre adresse
mail-signup-exists-body =
    Quelqu’un (peut-être vous) a essayé de créer un compte og-tickets avec cette adresse, qui en a déjà un.

    Mot de passe oublié ? Réinitialisez-le ici : { $link }
mail-reset-subject = Réinitialisez votre mot de passe og-tickets
mail-reset-body =
    Ouvrez ce lien dans l’heure pour choisir un nouveau mot de passe :

    { $link }
mail-ticket-received-subject = Vous avez reçu un billet
mail-ticket-received-body = { $from } vous a donné un billet ({ $places ->
    [one] { $places } place restante
   *[other] { $places } places restantes
}). Retrouvez-le sur { $link }
mail-ticket-invite-body =
    { $from } veut vous donner un billet.

    Créez votre compte avec cette adresse e-mail sur { $signup }, puis ouvrez ce lien dans les 7 jours pour le réclamer :
    { $link }
mail-payment-refused-subject = Commande { $order } : votre paiement sera remboursé
mail-payment-refused-body =
    Votre paiement pour la commande { $order } est arrivé après { $why ->
        [event-cancelled] l’annulation de son événement
       *[order-expired] l’expiration de la commande
    } : aucun billet n’a été émis.

    Les { $amount } seront remboursés sur la carte utilisée ; vous n’avez rien à faire.
mail-event-cancelled-subject = Annulé : { $event }
mail-event-cancelled-body =
    Nous sommes désolés : { $event } ({ $starts }) est annulé.

    Vos billets ne permettent plus d’entrer. Les { $amount } de la commande { $order } seront remboursés sur la carte utilisée ; vous n’avez rien à faire.

## Erreurs affichées sur les pages (selon le code d’erreur de l’API ; l’API JSON garde ses messages en anglais)

error-generic = cette demande n’a pas pu être traitée : vérifiez ce que vous avez saisi et réessayez
error-internal = une erreur s’est produite de notre côté ; elle a été enregistrée
error-unauthorized = adresse e-mail ou mot de passe incorrect
error-forbidden = ce n’est pas autorisé : connectez-vous avec le bon compte (un compte pas encore activé ne peut pas se connecter : ouvrez le lien que nous vous avons envoyé)
error-not-activated = ce compte n’est pas encore activé : ouvrez le lien que nous vous avons envoyé
link-activate-invalid = ce lien d’activation n’est pas valable
link-activate-used = ce lien d’activation a déjà servi : connectez-vous
link-activate-expired = ce lien d’activation a expiré : inscrivez-vous à nouveau
link-reset-invalid = ce lien de réinitialisation n’est pas valable
link-reset-used = ce lien de réinitialisation a déjà servi : demandez-en un nouveau
link-reset-expired = ce lien de réinitialisation a expiré : demandez-en un nouveau
error-not-found = cette page n’existe pas, ou plus
error-rate-limited = trop de tentatives : réessayez dans { $seconds } s
error-method-not-allowed = cette page ne s’utilise pas ainsi
error-payload-too-large = ce que vous avez envoyé est trop volumineux
error-account-banned = ce compte est banni
error-account-not-active = activez d’abord votre compte
error-already-paid = ce paiement a déjà été accepté
error-amount-mismatch = le montant payé diffère du total de la commande
error-bad-name = le nom n’est pas valable
error-bad-public-key = la clé de ce téléphone n’a pas été acceptée : rechargez la page et réessayez
error-bad-reason = le motif n’est pas valable
error-bad-signature-header = l’avis de paiement n’est pas correctement signé
error-breached-password = ce mot de passe fait partie des plus courants dans les fuites de données connues : choisissez-en un autre (une phrase de quelques mots sans rapport est facile à retenir)
error-cart-empty = le panier est vide
error-cart-too-large = 50 lignes au plus dans le panier
error-device-key-revoked = la clé de ce téléphone a été remplacée et est refusée aux entrées : rechargez la page pour en créer une nouvelle
error-event-cancelled = cet événement est annulé
error-invalid-body = le formulaire n’est pas correctement rempli
error-invalid-card-number = ce n’est pas un numéro de carte valable
error-invalid-day = le jour doit être une date (AAAA-MM-JJ)
error-invalid-email = cela ne ressemble pas à une adresse e-mail
error-invalid-form = le formulaire n’est pas correctement rempli
error-invalid-idempotency-key = cette page n’est plus à jour : rechargez-la et réessayez
error-invalid-name = un nom a au plus 80 caractères et aucun caractère de contrôle
error-invalid-password = un mot de passe a de 8 à 128 caractères
error-invalid-quantity = la quantité doit être comprise entre 1 et 10
error-invalid-query = cette adresse n’est pas valable
error-invalid-token = ce lien n’est pas valable
error-invite-not-valid = cette invitation a déjà été utilisée, remplacée ou a expiré
error-malformed-body = le formulaire n’est pas correctement rempli
error-malformed-json = la demande n’est pas valable
error-missing-idempotency-key = cette page n’est plus à jour : rechargez-la et réessayez
error-missing-signature = l’avis de paiement n’est pas signé
error-not-enough-seats = il ne reste pas assez de places pour cet événement
error-not-paid = un billet offert n’a rien à rembourser
error-order-closed = cette commande est close
error-paper-exception-exists = ce billet a déjà une exception papier
error-phone-code-required = cet événement demande le billet ouvert sur votre téléphone
error-reason-required = indiquez pourquoi : la décision est enregistrée
error-refund-deadline-passed = la date limite de remboursement est passée (les remboursements ferment à l’ouverture des portes)
error-replayed-webhook = cet avis de paiement a déjà été reçu
error-sales-closed = les ventes pour cet événement sont closes
error-sales-not-open = les billets de cet événement ne sont pas encore en vente
error-same-account = vous détenez déjà ce billet
error-sold-out = il ne reste pas assez de places pour cette offre
error-stale-webhook = cet avis de paiement est trop ancien
error-ticket-refunded = ce billet a déjà été remboursé
error-ticket-revoked = ce billet n’est plus valable
error-ticket-transferred = ce billet a été donné à quelqu’un : il ne peut pas être remboursé
error-ticket-used = ce billet a déjà servi à une entrée : il ne reste rien à rembourser ni à donner
error-token-expired = ce lien a expiré : demandez-en un nouveau
error-token-used = ce lien a déjà été utilisé
error-too-many-rebinds = ce billet a déjà changé de téléphone autant de fois que permis : gardez le téléphone qui l’affiche, ou contactez l’organisateur
error-too-many-transfers = ce billet a été transféré trop de fois
error-transfer-deadline-passed = les billets de cet événement ne peuvent plus être donnés (les transferts ferment à l’ouverture des portes)
error-unknown-event = cet événement n’existe pas
error-unsupported-media-type = la demande n’est pas valable


## Pages d’erreur, conditions de vente, confidentialité, consentement

error-page-404-title = Page introuvable
error-page-429-title = Trop de tentatives
error-terms-not-accepted = pour créer un compte, acceptez les conditions de vente et la politique de confidentialité
signup-consent-before = J’accepte les
signup-consent-and = et la
signup-consent-after = .
terms-title = Conditions de vente
privacy-title = Politique de confidentialité
legal-updated = Boutique de démonstration : ces conditions décrivent le fonctionnement de cette boutique ; un véritable organisateur publie les siennes.
terms-1-title = Ce que vous achetez
terms-1 =
    Un billet permet l’entrée des personnes de son offre (Solo 1, Duo 2, Famille 4) à une séance, au lieu, à la date et à l’heure indiqués dans le fuseau horaire du lieu. Les prix sont TTC, en euros.

    Votre commande est confirmée quand le paiement réussit ; les places sont réservées 15 minutes pendant le paiement.
terms-2-title = Remboursements
terms-2 = Vous pouvez rembourser vous-même une commande jusqu’à l’ouverture des portes, tant qu’aucun de ses billets n’a servi à une entrée ni n’a été donné. Si un événement est annulé, chaque acheteur est remboursé automatiquement sur la carte utilisée.
terms-3-title = Donner un billet
terms-3 = Jusqu’à l’ouverture des portes, vous pouvez donner un billet à une personne qui a un compte : elle reçoit un nouveau code et le vôtre cesse de fonctionner. Un billet donné ne peut plus être remboursé.
terms-4-title = Entrée
terms-4 = Chaque billet porte un code signé, contrôlé à l’entrée, avec ou sans réseau. Un code ne fait pas entrer plus de personnes que son billet ; la copie d’un code déjà utilisé est refusée. Certains événements demandent le billet ouvert sur votre téléphone, où le code change toutes les quelques secondes.
privacy-1-title = Ce que nous conservons
privacy-1 = Votre adresse e-mail, le nom imprimé sur vos billets, votre langue, une empreinte de votre mot de passe (jamais le mot de passe lui-même), vos commandes et billets, les entrées signalées par les portiques, et la date à laquelle vous avez accepté ces conditions.
privacy-2-title = Pourquoi
privacy-2 =
    Pour vous vendre des billets, vous faire entrer, vous rembourser et vous tenir informé de vos événements (par exemple une annulation). Rien n’est vendu ni partagé à des fins publicitaires.

    Les numéros de carte sont traités par la page de paiement et jamais conservés par la boutique.
privacy-3-title = Combien de temps, et vos droits
privacy-3 = Les commandes sont conservées aussi longtemps que la loi comptable l’exige ; le reste jusqu’à la suppression de votre compte. Vous pouvez demander à consulter, corriger ou supprimer vos données en écrivant à l’organisateur.

## Mon compte

nav-account = Mon compte
account-title = Mon compte
account-saved = Enregistré.
account-profile = Nom et langue
field-current-password = Mot de passe actuel
account-password = Changer le mot de passe
account-password-ends-sessions = Toutes les sessions se terminent, celle-ci aussi : vous vous reconnectez avec le nouveau mot de passe.
account-password-submit = Changer le mot de passe
error-wrong-current-password = le mot de passe actuel est incorrect
account-data = Mes données
account-data-text = Téléchargez tout ce que cette boutique conserve sur vous (compte, commandes, billets, billets donnés) dans un fichier JSON.
account-data-download = Télécharger mes données
account-delete = Supprimer mon compte
account-delete-text = Vos billets encore valables cessent de fonctionner à toutes les entrées après leur prochaine mise à jour, et ne sont pas remboursés : faites-les rembourser avant (jusqu’à l’ouverture des portes) si vous voulez récupérer votre argent. Les billets que vous avez donnés restent à leurs nouveaux titulaires.
account-delete-kept = Votre adresse e-mail, votre nom, votre langue et votre mot de passe sont effacés aussitôt. Vos commandes et paiements sont conservés sans votre nom, comme l’exige la loi comptable.
account-delete-understood = Je comprends : mes billets restants ne fonctionneront plus.
account-delete-submit = Supprimer mon compte
account-delete-not-understood = cochez la case pour confirmer que vos billets restants ne fonctionneront plus
account-deleted-title = Compte supprimé
account-deleted-text = Votre compte est supprimé et vos données personnelles effacées. Merci de votre visite.

## L’e-mail de confirmation de commande (texte et HTML)

mail-order-subject = Votre commande { $order } : billets joints
mail-order-hello = Bonjour { $name },
mail-order-hello-anyone = Bonjour,
mail-order-thanks = Merci : votre paiement est confirmé et vos billets sont prêts.
mail-order-number = Numéro de commande : { $order }
mail-order-quantity = Qté
mail-order-offer = Formule
mail-order-event = Événement
mail-order-price = Prix
mail-order-total = Total TTC : { $total } (dont TVA à { $rate } % : { $vat })
mail-order-attached = Vos billets sont joints en PDF : imprimez-les ou montrez-les sur un écran à l’entrée. Ils sont aussi sur { $link }.
mail-order-none-attached = Aucun de ces billets n’est plus à vous (donné ou remboursé depuis) : aucun n’est joint. Votre commande est sur { $link }.

## Le billet PDF (une page A4 par billet)

pdf-title-ticket = Billet { $serial }
pdf-title-order = Billets de la commande { $order }
pdf-heading = E-BILLET
pdf-ticket = Billet { $serial }
pdf-date = Date
pdf-doors = Ouverture des portes
pdf-venue = Lieu
pdf-offer = Formule
pdf-holder = Titulaire
pdf-number = Numéro de billet
pdf-admits = { $offer }, { $n ->
    [one] { $n } personne
   *[other] { $n } personnes
}
pdf-places-left = { $offer }, { $left ->
    [one] { $left } place restante
   *[other] { $left } places restantes
} sur { $n }
pdf-caption = Billet { $serial } : présentez ce code à l’entrée, imprimé ou sur un écran.
pdf-phone-title = Ouvrez ce billet sur votre téléphone
pdf-phone-line-why = Cet événement exige le code vivant sur le téléphone du titulaire : une impression ou une photo d’un code est refusée à l’entrée, cette page n’en porte donc aucun.
pdf-phone-line-how = Sur votre téléphone, connectez-vous sur { $url } et choisissez « Utiliser ce téléphone comme billet ». Le code change toutes les quelques secondes et fonctionne hors ligne.
pdf-entry-title = Comment se passe l’entrée
pdf-entry-scan = À l’entrée, le steward scanne le code : la borne affiche ENTRÉE ou REFUSÉ aussitôt, même sans réseau. Montez la luminosité du téléphone.
pdf-entry-people = Un scan fait entrer { $n ->
    [one] { $n } personne
   *[other] { $n } personnes
}. Chaque place ne sert qu’une fois : une copie de ce code présentée après vous est refusée.
pdf-entry-doors = Ouverture des portes : { $doors }. Gardez ce billet pour vous : le premier qui présente le code entre.
pdf-footer = og-tickets · billet { $serial } · ce code est signé : toute modification est refusée à l’entrée.

## E-mails après un changement : un billet envoyé, un remboursement confirmé, un mot de passe changé

mail-transfer-sent-subject = Billet n° { $ticket } envoyé à { $to }
mail-transfer-sent-body =
    Bonjour,

    { $how ->
        [invited] { $to } n’a pas encore de compte : nous lui avons envoyé un lien pour réclamer votre billet n° { $ticket } pour { $event } sous 7 jours. Tant qu’il n’est pas réclamé, le billet reste à vous et votre code reste valable ; ensuite, il n’ouvre plus les portes.
       *[sent] Votre billet n° { $ticket } pour { $event } appartient désormais à { $to } : votre code n’ouvre plus les portes et le billet a quitté vos billets.
    }

    Vos billets : { $link }

    Si ce n’est pas vous qui l’avez envoyé, changez tout de suite votre mot de passe : { $password }
mail-refund-confirmed-subject = Commande { $order } : votre remboursement est confirmé
mail-refund-confirmed-body =
    Bonjour,

    Votre remboursement est confirmé : { $amount } pour { $what ->
        [order] la commande { $order }
       *[ticket] le billet n° { $ticket } de la commande { $order }
    } ({ $event }).

    { $what ->
        [order] Les billets de cette commande n’ouvrent plus les portes.
       *[ticket] Ce billet n’ouvre plus les portes.
    } L’argent revient sur la carte avec laquelle vous avez payé ; vous n’avez rien à faire.

    Votre commande : { $link }
mail-password-changed-subject = Le mot de passe de votre compte og-tickets a été changé
mail-password-changed-body =
    Bonjour,

    Le mot de passe de votre compte og-tickets ({ $email }) a été changé le { $when }, { $how ->
        [reset] avec un lien de réinitialisation envoyé à cette adresse
       *[account] depuis la page de votre compte
    }. Toutes les sessions ont été fermées : reconnectez-vous avec le nouveau mot de passe.

    Si ce n’est pas vous, quelqu’un d’autre connaît votre mot de passe ou lit vos e-mails : sécurisez d’abord cette boîte mail, puis choisissez tout de suite un nouveau mot de passe ici : { $link }

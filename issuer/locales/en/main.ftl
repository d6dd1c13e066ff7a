# og-tickets: what buyers read, in English.
# Every key here must exist in every other locales/<language>/main.ftl (a test checks).
# Adding a language: copy this file to locales/<code>/main.ftl and translate it; nothing else.

language-name = English

## Numbers, money, dates (weekday 1 = Monday)

number-decimal-separator = .
number-group-separator = ,
colon = :
money = €{ $amount }
weekday-short = { $n ->
    [1] Mon
    [2] Tue
    [3] Wed
    [4] Thu
    [5] Fri
    [6] Sat
   *[7] Sun
}
month-short = { $n ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}
date = { $weekday } { $day } { $month } { $year }
time = { $hour12 }:{ $minute } { $pm ->
    [pm] PM
   *[am] AM
}
zone-city = { $city } time
datetime = { $date }, { $time } ({ $zone })
time-in-zone = { $time } ({ $zone })

## Layout

skip-to-content = Skip to content
nav-label = Main
nav-events = Events
nav-cart = Cart
nav-orders = Orders
nav-tickets = My tickets
nav-log-out = Log out
nav-log-in = Log in
nav-sign-up = Sign up
language-switcher = Language
footer-text = og-tickets demo shop · e-tickets signed with Ed25519, checked offline at the gate.

## Problems

problem-title = Problem
problem-client = That did not work
problem-server = Something went wrong
back-to-events = Back to the events
refused-title = Refused
csrf-refused = cross-site request refused: this form did not come from this site's own page
csrf-retry = Go back, reload the page and try again.

## Catalogue and event

events-title = Events
events-filter-label = Filter events
events-sport = Sport
events-all-sports = All sports
events-day = Day
events-all-days = All days
events-venue = Venue
events-all-venues = All venues
events-show = Show
events-none = No event matches these filters.
seats-left = { $left } of { $capacity } seats left
seats-left-of = of { $capacity } seats left
price-from = From { $price }
choose-tickets = Choose tickets
choose-tickets-for = Choose tickets for { $event }
see-the-event = See the event
all-events = ← All events
doors-open = Doors open { $time }
venue-address = Address:
offers = Offers
offer-name = { $kind ->
    [solo] Solo
    [duo] Duo
    [family] Family
   *[other] { $kind }
}
admits-people = { $count ->
    [one] admits { $count } person
   *[other] admits { $count } people
}
places-left = { $left } of { $admits } places left
price-per-ticket = { $price } per ticket
sold-out = Sold out
offer-tickets-left = { $left } tickets left at this price
quantity = Quantity
add-to-cart = Add { $offer } to cart
sale-open = On sale until { $until }.
sale-not-yet = Not on sale yet: sales open { $opens }.
sale-closed = Sales are closed for this event.
sale-cancelled = This event is cancelled. Its tickets no longer admit anyone; buyers are refunded automatically.

## Cart

cart-title = Your cart
cart-empty = Your cart is empty.
cart-browse = Browse the events.
col-event = Event
col-offer = Offer
col-price = Price
col-qty = Qty
col-order = Order
col-placed = Placed
col-status = Status
cart-offer = { $offer } (admits { $admits })
cart-update = Update
total = Total
cart-remove-hint = Set a quantity to 0 to remove a line.
cart-checkout = Check out and pay { $total }
cart-log-in = Log in to check out
cart-or = or
cart-create-account = create an account

## Accounts

field-email = Email
field-name = Name on your tickets
field-password = Password
field-new-password = New password
password-help = 8 to 128 characters. A long phrase is best.
signup-title = Create an account
signup-submit = Create account
signup-already = Already registered?
check-mail-title = Check your mail
check-mailbox = Check your mailbox
signup-sent = We sent a link to finish signing up. It is valid for 48 hours.
signup-demo = Demo mode: no mail server is configured, so the mail was written to { $dir } and the activation link is in the issuer's log.
activate-title = Activate your account
activate-one-click = One click and your account is ready.
activate-submit = Activate my account
activated-title = Account activated
activated-text = Your account is active. Log in to buy tickets.
forgot-title = Forgot your password?
forgot-submit = Mail me a reset link
forgot-sent = If this address has an account, we sent it a link to reset the password.
reset-title = Choose a new password
save = Save
password-changed-title = Password changed
password-changed-text = Your password is changed and your other sessions are ended.

## Orders and payment

orders-title = Your orders
orders-none = No orders yet.
order-title = Order #{ $id }
order-status-label = Status:
order-status = { $status ->
    [pending] pending
    [paid] paid
    [cancelled] cancelled
    [refunded] refunded
   *[other] { $status }
}
order-paid = Paid. Your tickets are ready.
order-see-tickets = See my tickets
order-tickets-pdf = Tickets as PDF
order-waiting = Waiting for payment. Seats are held until { $until }.
order-tickets = Tickets
order-cancel = Cancel this order
order-refund-until = You can refund this order until { $until }.
order-refund = Refund this order…
order-no-refund = No refund: { $why }.
refund-ask-title = Refund order #{ $id }?
refund-page-title = Refund order #{ $id }
refund-ask-text = { $count ->
    [one] Your ticket stops working at every gate at once, and { $amount } is owed back to the card you paid with. This cannot be undone.
   *[other] Your { $count } tickets stop working at every gate at once, and { $amount } is owed back to the card you paid with. This cannot be undone.
}
refund-yes = Yes, refund order #{ $id }
refund-no = No, keep my tickets
pay-title = Payment
pay-amount = Pay { $amount }
pay-banner = OG Pay · test mode · hosted payment page
pay-payment-for = Payment { $payment } for order #{ $order }
pay-card-number = Card number
pay-expiry = Expiry (MM/YY)
pay-cvc = CVC
pay-test-cards = Test cards: { $ok } succeeds, { $declined } is declined. Any expiry and CVC.
pay-declined = The last card was declined. Try another card.

## Tickets

ticket-number = Ticket #{ $serial }
ticket-qr-label = Ticket QR code
ticket-given-to = given to { $email } on { $when }
ticket-used-of = used { $used } of { $admits }
ticket-state-valid = valid
ticket-state-refunded = refunded
ticket-state-cancelled = event cancelled: refund due
ticket-state-revoked = revoked ({ $reason ->
    [fraud] suspected fraud
    [account_banned] account closed
    [transferred] given to someone else
   *[other] by the organiser
})
explain-refunded = Refunded: this ticket no longer admits anyone.
explain-cancelled = The event was cancelled: this ticket no longer admits anyone, the money is owed back to the buyer.
explain-account-closed = The account that held it was closed: this ticket no longer admits anyone.
explain-fraud = Revoked by the organiser (suspected fraud).
explain-transferred = Given to someone else: this code no longer admits anyone.
explain-revoked = Revoked by the organiser: this ticket no longer admits anyone.
tickets-none = No tickets yet.
tickets-find-event = Find an event.
tickets-needs-phone = This event needs the ticket open on your phone.
tickets-show = Show ticket #{ $serial }
tickets-no-longer-valid = No longer valid
tickets-given-away = Tickets you gave away
tickets-given-line = given to { $email } on { $when } ({ $places ->
    [one] { $places } place
   *[other] { $places } places
}). Your code for it no longer works.
brightness-hint = Turn your screen brightness up before you reach the gate.
holder-label = Holder:
holder = Holder
download-png = Download PNG
print-hint = Print this page for a paper copy.
needs-phone-notice = This event needs the ticket open on your phone: a picture, a print or a download of the code is refused at the gate.
ticket-pdf-download = Download the PDF ticket
use-this-phone = Use this phone as my ticket
phone-shows-now = A phone shows this ticket now.
phone-code-explained = On your phone, the code changes every few seconds and works offline at the gate; a screenshot of it stops working within a minute.
used-at = Used at { $gate }, { $when }
give-title = Give this ticket to someone
give-possible-until = Possible until { $until }. They need an activated account and get a new code for the { $left ->
    [one] { $left } place
   *[other] { $left } places
} left; your code stops working.
give-their-email = Their email
continue = Continue
give-not-possible = Not possible: { $why }.
give-ask-title = Give ticket #{ $serial } to { $email }?
give-ask-text = { $email } gets a new code for the { $left } place(s) left of this { $offer } ticket (if they have no account yet, they are invited by mail to claim it). Once they have it, your code stops working and the ticket can no longer be refunded.
give-yes = Yes, give it to { $email }
give-no = No, keep it
ticket-sent = Ticket sent
ticket-sent-text = Ticket sent: the recipient gets it at once if they have an account, or an invitation by mail to claim it.
back-to-tickets = Back to my tickets
claim-title = Claim a ticket
claim-log-in-first = Someone gave you a ticket. Log in with the address the invitation was sent to (or create an account with it first, then come back to this link).
claim-heading = Claim your ticket
claim-text = The ticket will be yours, with its own code; the person who gave it can no longer use it.
claim-submit = Take the ticket

## The phone ticket (phone.js shows these, sent in the page)

phone-title = My phone ticket
phone-app-name = og-tickets: my ticket
phone-app-short-name = Ticket
phone-explained = Your phone shows a code that changes every { $period } seconds, signed by a key that never leaves this phone. A screenshot or a copy stops working within a minute, and the code works without any signal at the gate.
phone-another-shows = Another phone shows this ticket now. Using this phone instead stops the other one at the next gate update; a ticket can move to another phone { $max } times.
phone-needs-js = The phone ticket needs JavaScript: turn it on for this site.
phone-back = Back to the ticket
phone-code-label = Rotating ticket code
phone-code-of = Code of
phone-changes-every = It changes every { $period } s: a moving bar means a live code, not a picture.
phone-creating-key = Creating this phone’s key…
phone-session-ended = Your session ended: log in again, then come back to this page.
phone-bind-failed = This phone could not be bound: { $why }.
phone-issuer-answered = the issuer answered { $status }
phone-replaced-done = Done: the phone used before no longer shows this ticket.
phone-no-crypto = This browser cannot keep a ticket key: open this page in a current browser over https.
phone-moved-away = This ticket was moved to another phone: this phone no longer shows it.
phone-went-wrong = Something went wrong: { $why }
phone-too-many-rebinds = this ticket already moved to another phone as often as allowed ({ $max } times): keep using the phone that shows it now, or ask the organiser

## Mails (plain text; the HTML alternative is this text in the shared frame)

mail-amount = { $units }.{ $cents } EUR
mail-activate-subject = Activate your og-tickets account
mail-activate-body =
    Welcome!

    Open this link within 48 hours to activate your account:

    { $link }

    If you did not sign up, ignore this mail.
mail-activate-again-body =
    Hello,

    As you asked our help desk, here is a new link to activate your account (valid 48 hours):

    { $link }

    If you did not ask for it, ignore this mail.
mail-signup-exists-subject = Someone tried to sign up with your address
mail-signup-exists-body =
    Someone (maybe you) tried to create an og-tickets account with this address, which already has one.

    Forgot your password? Reset it here: { $link }
mail-reset-subject = Reset your og-tickets password
mail-reset-body =
    Open this link within an hour to choose a new password:

    { $link }
mail-ticket-received-subject = You received a ticket
mail-ticket-received-body = { $from } gave you a ticket ({ $places ->
    [one] { $places } place
   *[other] { $places } places
} left). See it at { $link }
mail-ticket-invite-body =
    { $from } wants to give you a ticket.

    Create your account with this email address at { $signup }, then open this link within 7 days to claim it:
    { $link }
mail-payment-refused-subject = Order { $order }: your payment will be refunded
mail-payment-refused-body =
    Your payment for order { $order } arrived after { $why ->
        [event-cancelled] its event was cancelled
       *[order-expired] the order had expired
    }, so no ticket was issued.

    The { $amount } will be refunded to the card you paid with; you have nothing to do.
mail-event-cancelled-subject = Cancelled: { $event }
mail-event-cancelled-body =
    We are sorry: { $event } ({ $starts }) is cancelled.

    Your tickets for it no longer open the gates. The { $amount } of order { $order } will be refunded to the card you paid with; you have nothing to do.

## Errors shown on pages (by the API's error code; the JSON API keeps its own English messages)

error-generic = That request could not be handled: check what you entered and try again.
error-internal = something went wrong on our side; it has been logged
error-unauthorized = wrong email or password
error-forbidden = this is not allowed: log in with the right account (an account that is not activated yet cannot log in: open the link we mailed you)
error-not-activated = this account is not activated yet: open the link we mailed you
link-activate-invalid = this activation link is not valid
link-activate-used = this activation link was already used: log in
link-activate-expired = this activation link has expired: sign up again
link-reset-invalid = this reset link is not valid
link-reset-used = this reset link was already used: ask for a new one
link-reset-expired = this reset link has expired: ask for a new one
error-not-found = This page does not exist, or no longer does.
error-rate-limited = too many attempts: retry in { $seconds } s
error-method-not-allowed = This page cannot be used that way.
error-payload-too-large = What you sent is too large.
error-account-banned = this account is banned
error-account-not-active = activate your account first
error-already-paid = this payment has already succeeded
error-amount-mismatch = the paid amount differs from the order total
error-bad-name = the name is not valid
error-bad-public-key = this phone's key was not accepted: reload the page and try again
error-bad-reason = the reason is not valid
error-bad-signature-header = the payment notice is not signed correctly
error-breached-password = this password is one of the most common passwords in known data breaches: choose another (a phrase of a few unrelated words is easy to remember)
error-cart-empty = the cart is empty
error-cart-too-large = at most 50 cart lines
error-device-key-revoked = this phone's key was replaced and is refused at the gates: reload the page to make a new one
error-event-cancelled = this event is cancelled
error-invalid-body = the form was not filled in correctly
error-invalid-card-number = that is not a valid card number
error-invalid-day = the day must be a date (YYYY-MM-DD)
error-invalid-email = that does not look like an email address
error-invalid-form = the form was not filled in correctly
error-invalid-idempotency-key = this page is out of date: reload it and try again
error-invalid-name = a name has at most 80 characters and no control characters
error-invalid-password = a password has 8 to 128 characters
error-invalid-quantity = quantity must be between 1 and 10
error-invalid-query = this address is not valid
error-invalid-token = this link is not valid
error-invite-not-valid = this invitation was already used, replaced or has expired
error-malformed-body = the form was not filled in correctly
error-malformed-json = the request was not valid
error-missing-idempotency-key = this page is out of date: reload it and try again
error-missing-signature = the payment notice is not signed
error-not-enough-seats = not enough seats are left for this event
error-not-paid = a complimentary ticket has nothing to refund
error-order-closed = this order is closed
error-paper-exception-exists = this ticket already has a paper exception
error-phone-code-required = this event needs the ticket open on your phone
error-reason-required = say why: the decision is recorded
error-refund-deadline-passed = the refund deadline has passed (refunds close when the doors open)
error-replayed-webhook = this payment notice was already received
error-sales-closed = sales for this event are closed
error-sales-not-open = tickets for this event are not on sale yet
error-same-account = you already hold this ticket
error-sold-out = not enough seats left for this offer
error-stale-webhook = this payment notice is too old
error-ticket-refunded = this ticket was refunded already
error-ticket-revoked = this ticket is no longer valid
error-ticket-transferred = this ticket was given to someone else: it cannot be refunded
error-ticket-used = this ticket was already used at a gate: there is nothing left to refund or give
error-token-expired = this link has expired: ask for a new one
error-token-used = this link was already used
error-too-many-rebinds = this ticket already moved to another phone as often as allowed: keep using the phone that shows it now, or ask the organiser
error-too-many-transfers = this ticket was transferred too many times
error-transfer-deadline-passed = tickets can no longer be given to someone for this event (transfers close when the doors open)
error-unknown-event = there is no such event
error-unsupported-media-type = the request was not valid

## Error pages, terms of sale, privacy, consent

error-page-404-title = Page not found
error-page-429-title = Too many attempts
error-terms-not-accepted = to create an account, accept the terms of sale and the privacy policy
signup-consent-before = I accept the
signup-consent-and = and the
signup-consent-after = .
terms-title = Terms of sale
privacy-title = Privacy policy
legal-updated = Demo shop: these terms describe how this shop works; a real organiser publishes its own.
terms-1-title = What you buy
terms-1 =
    A ticket admits the people of its offer (Solo 1, Duo 2, Family 4) to one session, at the venue, date and time shown in the venue's time zone. Prices include VAT and are in euros.

    Your order is confirmed when the payment succeeds; seats are held for 15 minutes while you pay.
terms-2-title = Refunds
terms-2 = You can refund an order yourself until the doors open, as long as none of its tickets was used at a gate or given to someone. If an event is cancelled, every buyer is refunded automatically to the card they paid with.
terms-3-title = Giving a ticket to someone
terms-3 = Until the doors open, you can give a ticket to someone with an account: they get a new code and yours stops working. A given ticket can no longer be refunded.
terms-4-title = Entry
terms-4 = Each ticket carries a signed code checked at the gate, online or not. A code admits no more people than its ticket; a copy of a used code is refused. Some events require the ticket open on your phone, where the code changes every few seconds.
privacy-1-title = What we keep
privacy-1 = Your email address, the name printed on your tickets, your language, a hash of your password (never the password itself), your orders and tickets, the entries gates reported, and when you accepted these terms.
privacy-2-title = Why
privacy-2 =
    To sell you tickets, let you into the venue, refund you, and keep you informed about your events (for example a cancellation). Nothing is sold or shared for advertising.

    Card numbers are handled by the payment page and never stored by the shop.
privacy-3-title = How long, and your rights
privacy-3 = Orders are kept as long as accounting law requires; the rest until you delete your account. You can ask to read, correct or delete your data by writing to the organiser.

## My account

nav-account = My account
account-title = My account
account-saved = Saved.
account-profile = Name and language
field-current-password = Current password
account-password = Change the password
account-password-ends-sessions = Every session ends, this one too: you log in again with the new password.
account-password-submit = Change the password
error-wrong-current-password = the current password is wrong
account-data = My data
account-data-text = Download everything this shop keeps about you (account, orders, tickets, tickets given away) as a JSON file.
account-data-download = Download my data
account-delete = Delete my account
account-delete-text = Your tickets that still work stop working at every gate after its next update, and are not refunded: refund them first (until the doors open) if you want your money back. Tickets you gave away stay with their new holders.
account-delete-kept = Your email address, name, language and password are erased at once. Your orders and payments are kept without your name, as accounting law requires.
account-delete-understood = I understand: my remaining tickets will no longer work.
account-delete-submit = Delete my account
account-delete-not-understood = tick the box to confirm that your remaining tickets will no longer work
account-deleted-title = Account deleted
account-deleted-text = Your account is deleted and your personal data erased. Thank you for coming.

## The order confirmation mail (text and HTML)

mail-order-subject = Your order { $order }: tickets attached
mail-order-hello = Hello { $name },
mail-order-hello-anyone = Hello,
mail-order-thanks = Thank you: your payment is confirmed and your tickets are ready.
mail-order-number = Order number: { $order }
mail-order-quantity = Qty
mail-order-offer = Offer
mail-order-event = Event
mail-order-price = Price
mail-order-total = Total, VAT included: { $total } (of which VAT at { $rate } %: { $vat })
mail-order-attached = Your tickets are attached as a PDF: print it or show it on a screen at the gate. They are also on { $link }.
mail-order-none-attached = None of these tickets is yours any more (given away or refunded since), so none is attached. Your order is on { $link }.

## The PDF ticket (one A4 page per ticket)

pdf-title-ticket = Ticket { $serial }
pdf-title-order = Tickets of order { $order }
pdf-heading = E-TICKET
pdf-ticket = Ticket { $serial }
pdf-date = Date
pdf-doors = Doors open
pdf-venue = Venue
pdf-offer = Offer
pdf-holder = Holder
pdf-number = Ticket number
pdf-admits = { $offer }, admits { $n ->
    [one] { $n } person
   *[other] { $n } people
}
pdf-places-left = { $offer }, { $left } of { $n } places left
pdf-caption = Ticket { $serial }: show this code at the gate, printed or on a screen.
pdf-phone-title = Open this ticket on your phone
pdf-phone-line-why = This event needs the live code on the holder's phone: a print or a picture of a code is refused at the gate, so this page has none.
pdf-phone-line-how = On your phone, log in at { $url } and choose "Use this phone as my ticket". The code changes every few seconds and works offline.
pdf-entry-title = How entry works
pdf-entry-scan = At the gate, the steward scans the code: the gate says ADMIT or REJECT at once, even without network. Turn a phone's brightness up.
pdf-entry-people = One scan lets in { $n ->
    [one] { $n } person
   *[other] { $n } people
}. Each place is used once: a copy of this code shown after you is refused.
pdf-entry-doors = Doors open { $doors }. Keep this ticket to yourself: whoever shows the code first gets in.
pdf-footer = og-tickets · ticket { $serial } · this code is signed: any change to it is refused at the gate.

## Mails after a change: a ticket sent, a refund confirmed, a password changed

mail-transfer-sent-subject = Ticket #{ $ticket } sent to { $to }
mail-transfer-sent-body =
    Hello,

    { $how ->
        [invited] { $to } has no account yet: we mailed them a link to claim your ticket #{ $ticket } for { $event } within 7 days. Until they claim it, the ticket stays yours and your code keeps working; once they do, it no longer opens the gates.
       *[sent] Your ticket #{ $ticket } for { $event } now belongs to { $to }: your code for it no longer opens the gates, and it has left your tickets.
    }

    See your tickets: { $link }

    If you did not send it, change your password at once: { $password }
mail-refund-confirmed-subject = Order { $order }: your refund is confirmed
mail-refund-confirmed-body =
    Hello,

    Your refund is confirmed: { $amount } for { $what ->
        [order] order { $order }
       *[ticket] ticket #{ $ticket } of order { $order }
    } ({ $event }).

    { $what ->
        [order] The tickets of this order no longer open the gates.
       *[ticket] This ticket no longer opens the gates.
    } The money goes back to the card you paid with; you have nothing to do.

    Your order: { $link }
mail-password-changed-subject = Your og-tickets password was changed
mail-password-changed-body =
    Hello,

    The password of your og-tickets account ({ $email }) was changed on { $when }, { $how ->
        [reset] with a reset link mailed to this address
       *[account] from your account page
    }. Every session was signed out: sign in again with the new password.

    If it was not you, someone else knows your password or can read your mail: secure this mailbox first, then choose a new password at once here: { $link }

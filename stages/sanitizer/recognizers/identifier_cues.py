"""Cue words for identifiers, in en, de, fr, es, it, nl and pl: the word before a code says what it is.
"policy", "Kundennummer", "numéro de dossier" make a code a customer's identifier; "passport", "Steuer-ID",
"codice fiscale" a national id; "plate", "Kennzeichen", "targa" a vehicle plate; "flight", "Zählerstand",
"promo", "Telefon", "total" something that is not an identifier (a flight, a meter reading, a promo code, a
phone number, an amount).

Word lists are stems: an entry matches a word that starts with it (so inflections and compounds are found:
"polisy", "Versicherungsschein"), except in the EXACT lists. German and Dutch compounds of a stem and an id
word ("Vertrags" + "nummer", "klant" + "nummer", "Buchungs" + "code") are matched as such, so that
"Kundenservice" is not taken for "Kunden" + "nummer". Any other "...nummer" / "...nr" word is a GENERIC cue.

Kinds: the three entity types; NEGATIVE (not an identifier, whatever else is said); WEAK_NEGATIVE ("code":
a promo or error code unless a word before it says "booking code"); GENERIC ("number", "Nr.", "#", "n°":
an identifier of some kind, or a phone number); REFERENCE ("reference", "Referenz", "kenmerk": a customer's
reference unless a word before it says otherwise: "outage, reference INC-4629" is the company's)."""

from __future__ import annotations

import re
from functools import lru_cache

ACCOUNT = "ACCOUNT_NUMBER"
ID = "ID_DOCUMENT"
PLATE = "VEHICLE_PLATE"
NEGATIVE = "negative"
WEAK_NEGATIVE = "weak_negative"
GENERIC = "generic"
REFERENCE = "reference"
SPECIFIC = frozenset({ACCOUNT, ID, PLATE})

# Stems that make compounds with an id word (de, nl): "Kunden" + "nummer", "Buchungs" + "code".
_COMPOUND_HEADS = ("nummer", "nummern", "nr", "no", "code", "kennung", "id", "zeichen", "zahl", "referenz", "konto")

# Each kind: (stems, exact words, compound stems). Lower case; NEGATIVE is tried first, so "Zählerstand" is a
# reading although "Zähler" is a meter.
_LEXICON: dict[str, tuple[str, str, str]] = {
    NEGATIVE: (
        # travel: flights, trains, seats, gates
        "flight flug flüg vuelo vlucht train treno trein pociąg pociag seat sitzplatz siège siege asiento "
        "zitplaats miejsc gate terminal bahnsteig gleis perron platform binario andén anden rzęd rzed rząd "
        # meter readings and consumption
        "reading lectura lettura relevé releve odczyt meterstand zählerstand zaehlerstand ablese abgelesen "
        "verbrauch consommation consumo verbruik zużyci zuzyci kwh kilowatt display shows showing zeigt "
        # versions, errors, outages
        "version versión versione versie wersj error fehler erreur errore foutcode błąd błęd blad bled fault "
        "outage störung stoerung ausfall panne avería averia guasto storing awari incident "
        # promotions, products
        "promo voucher coupon cupón cupon gutschein rabatt rabat discount descuento sconto korting réduction "
        "reduction remise aktionscode actiecode model modèle sku artikel article artículo articolo artykuł "
        "produkt product prodott producto produit tarif "
        # phones
        "phone telefon téléphon telephon teléfono telefono telefoon handy móvil movil cellulare celular "
        "komórk komork fax rufnummer anruf appel llam chiam bellen zadzwo hotline helpline durchwahl "
        "whatsapp "
        # amounts
        "amount betrag montant importe importo bedrag kwot total gesamt summe somme price preis prix precio "
        "prezzo prijs cena cost kosten coût coste costo koszt gebühr gebuehr frais balance saldo "
        # the company's service and places: customer service, branches, lockers, stations
        "service servicio servizio support helpdesk kundendienst kundenservice klantenservice obsług obslug "
        "branch locker packstation paketshop paketstation abholstation filiale depot agence sucursal "
        "vestiging paczkomat oddzia relais store station "
        # bank, codes and passwords, postal codes
        "ifsc routing password passwort kennwort passcode wachtwoord contraseña hasło haslo otp puk "
        "postcode postal postleitzahl eircode pocztow iban apn "
        # products and companies: article numbers, company registers, VAT ids, technical ids
        "isbn gtin upc asin hrb hra ust-id ustid umsatzsteuer handelsregister amtsgericht kvk siret siren btw "
        "abn acn gstin uuid guid",
        "ice tgv row reihe rang fila rij rzędzie rzedzie platz plätze plaetze place posto stoel quai voie spoor "
        "care stand stan err fout tel mobile mobil cell bel pin tan zip plz cap uhr hour hours heure "
        "heures hora horas ore uur godzina vol vols voli volo lot lotu locie zug zuges tren fee room zimmer bic "
        "swift vat tva iva cif",
        "flug zug sitzplatz platz telefon handy mobil fax fehler modell artikel versions gutschein rabatt "
        "telefoon vlucht",
    ),
    ID: (
        "passport passeport pasaporte passaporto paspoort paszport reisepass ausweis personalausweis "
        "führerschein fuehrerschein licen licenç identit identid identif national nino aadha adhaar aadhar medicare "
        "centrelink burgerservice sofinummer steueridentifikation sozialversicherung rentenversicherung "
        "aufenthalt permis conducir conduire fiscal vitale sanitari rijbewijs verblijf dowod dowód osobist "
        "jazdy pesel séjour sejour soggiorno residen social",
        "pass perso nhs ppsn pps tfn crn bsn nif nir dni nuss svnr ahv idnr nhi ohip tax voter epic insee nip "
        "ktn patente carnet ecard e-card steuer-id steuerid",
        "pass steuer ausweis identifikation sv ahv",
    ),
    PLATE: (
        "plate numberplate registration kennzeichen autokennzeichen nummernschild immatricul placa targa "
        "kenteken nummerbord tablic rejestracyj vehic véhic vehícul veicol voertuig pojazd fahrzeug",
        "reg rego vrm kfz plaque immat matrícula matricula car coche voiture samochód samochodu",
        "",
    ),
    ACCOUNT: (
        # en
        "account acct customer client member policy policies claim booking reservation réservation reserv "
        "confirmation conf ticket tracking waybill consignment shipment parcel package "
        "dossier docket complaint dispute repair return receipt authori preauth pre-auth applica request "
        "contract contrat agreement loan mortgage invoice subscri iccid imei mpan mprn serial patient insur "
        "frequent flyer flier loyalty transaction transfer permit penalty citation summons tenancy council "
        "pension benefit claimant enrol student employee "
        # de (standalone words; compounds below)
        "aktenz geschäftszeichen geschaeftszeichen kassenzeichen bußgeld bussgeld bescheid strafanzeige "
        "vorgang sendungsverfolg zählpunkt zaehlpunkt marktlokation messlokation reklamation beschwerde "
        "rücksende ruecksende retour "
        # fr
        "commande sinistr siniestr suivi colis envoi expédition expedition factur adhérent adherent abonn compteur "
        "réclamation reclamation plainte récépissé recepisse contravention "
        # es
        "póliza poliza pedido localizador billet seguimiento envío paquete expediente contador socio "
        "afiliad solicitud denuncia multa devoluci reclamaci cups "
        # it
        "polizz ordine prenotazion biglietto spedizion pacco pratica contatore matricola fattur richiesta "
        "verbale abbonament utenza fornitura prestito reclamo "
        # nl
        "rekening polis schade bestelling boeking reservering zending pakket factuur "
        "lidmaatschap aanvraag klacht aangifte zaak bekeuring boete lening "
        # pl
        "klient rachun szkod zamówie zamowie rezerwac faktur bilet przesył przesyl paczk sygnatur umow licznik "
        "gazomierz wodomierz zgłosze zglosze reklamac wniosk wniosek zleceni abonent",
        "pnr awb rma bsb sort case file report order orders meter msn mrn hospital pcn job kdnr "
        "vsnr evb pv prm pdl pce ppe pdr ean sim upi utr nmi konto konta kontem kunde kunden vertrag "
        "police policen polizze schaden auftrag bestellung buchung sendung paket zähler zaehler antrag fall "
        "retoure rechnung lieferschein abo contract dossier track klant versicherung zählers zaehlers vertrags "
        "kundenkonto versicherungsschein compte cuenta conto tessera sprawa sprawy sprawie "
        "auftrags kontos antrags schadens procès proces procès-verbal proces-verbaal amende amendes mandat",
        "kunde konto vertrag versicherung versicherungsschein police policen polizzen schaden schadenfall "
        "auftrag bestellung bestell buchung reservierung reservation vorgang akte sendung paket post zähler "
        "zaehler mitglied versicherte patient rechnung antrag fall rücksendung rücksende ruecksende "
        "retoure retouren reklamation beschwerde bearbeitung ticket tracking sperr order klant polis schade "
        "bestel boeking reservering dossier zaak meter contract factuur lid klacht aanvraag "
        "zending pakket ean volg track verzekering mandat mandats",
    ),
    WEAK_NEGATIVE: ("", "code codes código codigo codice kod kodu kodem", ""),
    REFERENCE: ("referen référen riferiment kenmerk", "ref réf rif", ""),
    GENERIC: (
        "",
        "number numbers num no nr nbr # n° nº № id nummer nummern numéro numero número numer numeru numerem "
        "card karte carte tarjeta carta kaart karta karty kartennummer",
        "",
    ),
}

# Acronyms that are common words in lower case: Polish "nie" (not) and "pan" (Mr), Spanish "sin" (without).
_CASE_SENSITIVE = {"NIE": ID, "PAN": ID, "SIN": ID, "NI": ID, "CF": ID, "TIE": ID, "POD": ACCOUNT}
_CASE_SENSITIVE_LOWER = frozenset(word.lower() for word in _CASE_SENSITIVE)


def _alternation(words: str) -> str:
    return "|".join(sorted((re.escape(w) for w in words.split()), key=len, reverse=True))


def _kind_pattern(kind: str, stems: str, exact: str, compounds: str) -> str:
    parts = []
    if exact:
        parts.append(f"(?:{_alternation(exact)})")
    if compounds:
        heads = "|".join(_COMPOUND_HEADS)
        parts.append(f"(?:{_alternation(compounds)})(?:e?s|e?n|e)?-?(?:{heads})")
    if stems:
        parts.append(rf"(?:{_alternation(stems)})[\w-]*")
    if kind == NEGATIVE:  # German and Dutch compounds of an amount or a reading: "Kaufpreis", "Kontostand"
        parts.append(r"[\w-]+(?:betrag|preis|summe|kosten|gebühr|gebuehr|stand|bedrag|prijs)")
    if kind == GENERIC:
        parts.append(r"[\w-]+(?:nummer|nummern|-nr|nr)")
    return f"(?P<{kind}>{'|'.join(parts)})"


_CLASSES = re.compile("|".join(_kind_pattern(kind, *words) for kind, words in _LEXICON.items()))
_ELISION = re.compile(r"^[^\W\d_]{1,4}['\u2019](?=[^\W\d_]{3})")  # French and Italian "d'", "l'", "dell'"


@lru_cache(maxsize=4096)
def classify(word: str) -> str | None:
    """The cue kind of one word as written (case matters only for acronyms that are also common words)."""
    kind = _CASE_SENSITIVE.get(word)
    if kind is not None:
        return kind
    lowered = word.lower()
    if lowered in _CASE_SENSITIVE_LOWER:
        return None
    lowered = _ELISION.sub("", lowered)
    lowered = lowered.removesuffix("'s").removesuffix("\u2019s")
    match = _CLASSES.fullmatch(lowered)
    return match.lastgroup if match is not None else None

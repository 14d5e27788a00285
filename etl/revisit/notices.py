"""Correction notices: the lines an editor adds when a story is corrected, updated or
clarified, in the languages of the seeds and the shared data.

Two shapes, matched on a paragraph the new version added (never on text that was there):

- a label opening the paragraph, then a colon or dash within a few words:
  "Correction: …", "Update (14:05) – …", "Berichtigung: …", "Mise à jour : …";
- a sentence that says so anywhere in the paragraph: "An earlier version of this article
  misstated …", "Dieser Artikel wurde korrigiert", "Une version précédente de cet
  article …", "Este artículo fue actualizado".

Languages: English, German, French, Spanish, Italian, Portuguese, Dutch, Polish, Russian,
Japanese. Matching is case-insensitive on text folded to NFC. Written for this project;
extend a language's lists by adding phrases.
"""

from __future__ import annotations

import re
import unicodedata

# Labels that open a notice paragraph, per language.
LABELS: dict[str, tuple[str, ...]] = {
    "en": ("correction", "corrections", "update", "updated", "clarification", "editor's note",
           "editors' note", "amendment", "erratum"),
    "de": ("korrektur", "berichtigung", "richtigstellung", "aktualisierung", "update",
           "klarstellung", "anmerkung der redaktion", "hinweis der redaktion", "nachtrag",
           "ergänzung"),
    "fr": ("correction", "rectificatif", "rectification", "mise à jour", "précision",
           "erratum", "note de la rédaction", "actualisation", "mise au point"),
    "es": ("corrección", "fe de erratas", "actualización", "aclaración", "nota del editor",
           "nota de la redacción", "rectificación", "fe de errores"),
    "it": ("correzione", "rettifica", "aggiornamento", "precisazione", "errata corrige",
           "nota della redazione", "chiarimento"),
    "pt": ("correção", "correcção", "errata", "atualização", "actualização",
           "esclarecimento", "nota da redação", "nota da redacção", "retificação"),
    "nl": ("correctie", "rectificatie", "update", "verduidelijking",
           "noot van de redactie"),
    "pl": ("sprostowanie", "korekta", "aktualizacja", "uzupełnienie", "wyjaśnienie",
           "errata", "od redakcji"),
    "ru": ("исправление", "уточнение", "обновлено", "обновление", "поправка",
           "от редакции"),
}

# Sentences that state a correction anywhere in an added paragraph, per language.
SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (r"an? (?:earlier|previous|prior) version of this (?:article|story|report|piece)",
           r"this (?:article|story|report|piece) (?:has been|was) (?:corrected|updated|amended"
           r"|clarified)",
           r"we (?:have )?corrected", r"(?:was|has been) corrected to (?:say|read|reflect)"),
    "de": (r"in einer (?:früheren|vorherigen|älteren) (?:version|fassung) dieses "
           r"(?:artikels|beitrags|textes)",
           r"dieser (?:artikel|beitrag|text) wurde (?:korrigiert|aktualisiert|berichtigt|"
           r"ergänzt)",
           r"wir haben (?:den fehler|dies|das) (?:korrigiert|berichtigt)"),
    "fr": (r"une (?:version|mouture) (?:précédente|antérieure) de cet (?:article|texte)",
           r"cet article a été (?:corrigé|mis à jour|modifié|actualisé|rectifié)",
           r"nous avons corrigé"),
    "es": (r"una versión anterior de (?:este|esta) (?:artículo|nota|noticia|información)",
           r"(?:este|esta) (?:artículo|nota|noticia) (?:fue|ha sido) (?:corregid|actualizad|"
           r"modificad)[oa]",
           r"hemos corregido"),
    "it": (r"una versione precedente di questo (?:articolo|pezzo)",
           r"questo articolo è stato (?:corretto|aggiornato|modificato|rettificato)",
           r"abbiamo corretto"),
    "pt": (r"uma versão anterior (?:deste|desta) (?:artigo|texto|reportagem|notícia|matéria)",
           r"(?:este|esta) (?:artigo|texto|reportagem|notícia|matéria) (?:foi|já foi) "
           r"(?:corrigid|atualizad|actualizad|alterad)[oa]",
           r"corrigimos"),
    "nl": (r"een eerdere versie van dit (?:artikel|bericht|stuk)",
           r"dit (?:artikel|bericht) is (?:gecorrigeerd|aangepast|bijgewerkt)"),
    "pl": (r"we wcześniejszej wersji (?:tego|niniejszego) (?:artykułu|tekstu)",
           r"(?:artykuł|tekst) (?:został|zostal) (?:poprawiony|zaktualizowany|uzupełniony)"),
    "ru": (r"в (?:предыдущей|первоначальной|ранней) версии (?:этой|данной) "
           r"(?:статьи|заметки|публикации)",
           r"(?:статья|материал) (?:была|был) (?:исправлена|исправлен|обновлена|обновлен)"),
    # Japanese has no spaces: bracketed labels and the usual apology line.
    "ja": (r"^[【\[（(]\s*(?:訂正|追記|更新|修正)\s*[】\]）)]", r"^(?:訂正|追記|修正)\s*[：:]",
           r"お詫びと訂正", r"記事を(?:訂正|修正)しました"),
}


def _label_pattern() -> re.Pattern[str]:
    labels = sorted({label for group in LABELS.values() for label in group}, key=len,
                    reverse=True)
    alternatives = "|".join(re.escape(label).replace("'", "['’]") for label in labels)
    # Optional leading markup left by extraction (*, [, «, -), the label, then within a
    # few words (a date, a time in brackets) a colon or a dash.
    # A full stop ends the search (a sentence that merely starts with the word), except
    # inside a number: "Update, 15.30:".
    between = r"(?:[^.:\n]|(?<=\d)\.(?=\d)){0,40}?"
    return re.compile(rf"^[\W_]{{0,3}}(?:{alternatives})\b{between}\s*[:–—-]",
                      re.IGNORECASE)


LABEL = _label_pattern()
SENTENCE = re.compile("|".join(f"(?:{p})" for group in SENTENCES.values() for p in group),
                      re.IGNORECASE)


def is_notice(paragraph: str) -> bool:
    """Whether a paragraph reads as a correction, update or clarification notice."""
    folded = unicodedata.normalize("NFC", paragraph).strip()
    return bool(LABEL.match(folded) or SENTENCE.search(folded))

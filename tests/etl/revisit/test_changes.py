"""Change kinds and correction notices, in each language the notices list covers."""

from __future__ import annotations

import pytest

from etl.revisit.changes import char_delta, compare
from etl.revisit.notices import is_notice

TEXT = ("The ferry timetable changes on Monday.\n"
        "Crossings will run every twenty minutes in the morning peak.")

# Sentences written for these tests: each reads as a notice an editor appends.
NOTICES = {
    "en": ["Correction: the ferry leaves at 7.20, not 7.02 as first reported.",
           "Update (14:05) – the harbour master has confirmed the new times.",
           "Clarification: the night crossing is not affected.",
           "An earlier version of this article misstated the fare for bicycles.",
           "This story has been amended to give the operator's full name."],
    "de": ["Korrektur: Die Fähre fährt um 7.20 Uhr, nicht um 7.02 Uhr.",
           "Berichtigung: Der Hafenmeister heißt nicht Weber, sondern Becker.",
           "Aktualisierung, 15.30 Uhr: Der Fahrplan gilt ab Dienstag.",
           "In einer früheren Version dieses Artikels hieß es, die Nachtfähre entfalle.",
           "Dieser Beitrag wurde ergänzt."],
    "fr": ["Rectificatif : le bac part à 7 h 20 et non à 7 h 02.",
           "Mise à jour : la capitainerie a confirmé les nouveaux horaires.",
           "Précision : la traversée de nuit n'est pas concernée.",
           "Une version précédente de cet article indiquait un tarif erroné pour les vélos.",
           "Cet article a été modifié pour préciser le nom de l'exploitant."],
    "es": ["Corrección: el transbordador sale a las 7.20, no a las 7.02.",
           "Actualización: la capitanía confirmó los nuevos horarios.",
           "Aclaración: el trayecto nocturno no cambia.",
           "Una versión anterior de este artículo indicaba una tarifa errónea.",
           "Este artículo fue actualizado con la respuesta del ayuntamiento."],
    "it": ["Correzione: il traghetto parte alle 7.20, non alle 7.02.",
           "Rettifica: il capitano del porto si chiama Bianchi, non Rossi.",
           "Aggiornamento delle 16: la capitaneria ha confermato i nuovi orari.",
           "Una versione precedente di questo articolo riportava una tariffa sbagliata.",
           "Questo articolo è stato corretto alle 18."],
    "pt": ["Correção: o ferry parte às 7h20 e não às 7h02.",
           "Atualização: a capitania confirmou os novos horários.",
           "Esclarecimento: a travessia noturna não é afetada.",
           "Uma versão anterior deste artigo indicava uma tarifa errada para bicicletas.",
           "Esta reportagem foi atualizada com a resposta da câmara municipal."],
    "nl": ["Correctie: de veerboot vertrekt om 7.20 uur, niet om 7.02 uur.",
           "In een eerdere versie van dit artikel stond een verkeerd tarief."],
    "pl": ["Sprostowanie: prom odpływa o 7.20, a nie o 7.02.",
           "We wcześniejszej wersji tego artykułu podaliśmy błędną cenę biletu."],
    "ru": ["Исправление: паром отправляется в 7.20, а не в 7.02.",
           "В предыдущей версии этой статьи была указана неверная цена билета."],
    "ja": ["【訂正】フェリーの出発時刻は7時20分でした。",
           "訂正：運賃の記載に誤りがありました。"],
}

# Ordinary sentences that mention the same words: no notice.
ORDINARY = [
    "The update to the timetable was welcomed by commuters.",
    "Correction fluid and pencils were handed out at the exam.",
    "Die Aktualisierung des Fahrplans kommt im Frühjahr.",
    "La mise à jour du logiciel de billetterie est prévue en mai.",
    "La corrección de los exámenes terminará el viernes.",
    "L'aggiornamento dell'orario arriverà in primavera.",
    "A atualização do sistema de bilhética está prevista para maio.",
    "Aktualizacja rozkładu jazdy wejdzie w życie w maju.",
    "Обновление расписания вступит в силу в мае.",
    "フェリーの時刻表は月曜日に更新されます。",
]


@pytest.mark.parametrize(("language", "sentence"),
                         [(lang, s) for lang, group in NOTICES.items() for s in group])
def test_notices_in_each_language(language: str, sentence: str) -> None:
    assert is_notice(sentence)
    change = compare("Ferry times", TEXT, "Ferry times", f"{TEXT}\n{sentence}")
    assert change is not None and change.kind == "correction"


@pytest.mark.parametrize("sentence", ORDINARY)
def test_ordinary_sentences_are_not_notices(sentence: str) -> None:
    assert not is_notice(sentence)
    change = compare("Ferry times", TEXT, "Ferry times", f"{TEXT}\n{sentence}")
    assert change is not None and change.kind == "body"


def test_kinds_and_their_order() -> None:
    assert compare("Ferry times", TEXT, "ferry  times", TEXT.replace(" ", "  ")) is None
    assert compare("Ferry times", TEXT, "New ferry times", TEXT).kind == "headline"
    # A correction wins over the headline rewritten with it.
    both = compare("Ferry times", TEXT, "New ferry times", f"{TEXT}\n{NOTICES['en'][0]}")
    assert both.kind == "correction"
    assert compare("Ferry times", TEXT, "Ferry times", TEXT,
                   was_unpublished=True).kind == "restored"
    # A notice already there is no new correction.
    noted = f"{TEXT}\n{NOTICES['en'][0]}"
    assert compare("Ferry times", noted, "Ferry times", noted + "\nMore crossings in summer."
                   ).kind == "body"


def test_char_delta_counts_words_inserted_and_deleted() -> None:
    assert char_delta("a b c", "a b c") == (0, 0)
    assert char_delta("a b c", "a b c dd ee") == (5, 0)  # "dd ee"
    assert char_delta("a bb c", "a c") == (0, 2)
    assert char_delta("a bb c", "a xyz c") == (3, 2)

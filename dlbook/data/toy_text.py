"""A synthetic corpus whose word vectors have known structure (chapter 13).

Every sentence is generated from templates, so we know exactly which
regularities a good set of word vectors should recover:

* **people**: eight words on the corners of a cube of three binary
  attributes, status (royal / common), gender (male / female) and age
  (adult / young): king, queen, prince, princess, man, woman, boy, girl.
  A sentence about a person speaks of one attribute only: a crown or a cap,
  "he" or "she", taxes or toys. A person's contexts are therefore the
  sum of three attribute profiles, and king - queen = man - woman holds in the
  counts themselves.
* **places**: eight countries and their capitals. A country and its capital
  share a language word (france and paris both go with "french"); countries
  go with "country" and "border", capitals with "city" and "streets".
* **animals**: six animals with their sounds and foods (for neighbours).

Generated with an explicit ``rng``; no third-party text is involved.
"""

from __future__ import annotations

import itertools

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.utils import make_rng

PEOPLE: dict[str, tuple[str, str, str]] = {
    "king": ("royal", "male", "adult"), "queen": ("royal", "female", "adult"),
    "prince": ("royal", "male", "young"), "princess": ("royal", "female", "young"),
    "man": ("common", "male", "adult"), "woman": ("common", "female", "adult"),
    "boy": ("common", "male", "young"), "girl": ("common", "female", "young"),
}
"""Person word -> (status, gender, age)."""

COUNTRIES: dict[str, tuple[str, str]] = {
    "france": ("paris", "french"), "italy": ("rome", "italian"),
    "spain": ("madrid", "spanish"), "germany": ("berlin", "german"),
    "japan": ("tokyo", "japanese"), "china": ("beijing", "chinese"),
    "russia": ("moscow", "russian"), "greece": ("athens", "greek"),
}
"""Country -> (capital, language)."""

ANIMALS: dict[str, tuple[str, str]] = {
    "dog": ("barks", "meat"), "cat": ("meows", "fish"), "cow": ("moos", "grass"),
    "horse": ("neighs", "hay"), "duck": ("quacks", "bread"), "sheep": ("bleats", "clover"),
}
"""Animal -> (sound verb, food)."""

PERSON_TEMPLATES: dict[str, tuple[str, ...]] = {
    "royal": ("the royal {w} waved", "the {w} wore the crown",
              "the {w} rules the kingdom", "guards saluted the {w}"),
    "common": ("the humble {w} waved", "the {w} wore a cap",
               "the {w} farms the land", "neighbours greeted the {w}"),
    "male": ("the {w} said he was tired", "the {w} lost his hat",
             "the {w} and his friend left", "the {w} combed his hair"),
    "female": ("the {w} said she was tired", "the {w} lost her hat",
               "the {w} and her friend left", "the {w} combed her hair"),
    "adult": ("the {w} paid taxes", "the {w} drove a cart",
              "the old {w} slept", "the {w} has a job"),
    "young": ("the {w} played with toys", "the {w} went to school",
              "the little {w} slept", "the {w} has a teacher"),
}
"""Attribute value -> sentence templates; ``{w}`` is the person word. The marker
words sit at most three positions from ``{w}``, inside a window of 3."""

PLACE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "language": ("people in {w} speak {lang}", "in {w} they speak {lang}",
                 "we learned {lang} in {w}", "the {lang} food of {w}"),
    "country": ("{w} is a large country", "we crossed the border of {w}",
                "the nation of {w} voted"),
    "capital": ("{w} is a busy city", "the streets of {w} are crowded",
                "the mayor of {w} spoke"),
}
"""Templates for places; ``{w}`` is the country or capital, ``{lang}`` its language."""

ANIMAL_TEMPLATES = ("the {w} {sound} at night", "we heard the {w} {sound}",
                    "the {w} eats {food}", "feed the {w} some {food}",
                    "the farmer keeps a {w}", "the {w} stood in the field")
"""Templates for animals with their ``{sound}`` and ``{food}``."""

FAMILY_WEIGHTS = {"people": 0.4, "places": 0.4, "animals": 0.2}
"""Share of sentences about each family."""


def _person_sentence(rng: np.random.Generator) -> str:
    word = list(PEOPLE)[rng.integers(len(PEOPLE))]
    attribute = PEOPLE[word][rng.integers(3)]  # status, gender or age, uniformly
    templates = PERSON_TEMPLATES[attribute]
    return templates[rng.integers(len(templates))].format(w=word)


def _place_sentence(rng: np.random.Generator) -> str:
    country = list(COUNTRIES)[rng.integers(len(COUNTRIES))]
    capital, lang = COUNTRIES[country]
    is_capital = bool(rng.integers(2))
    word = capital if is_capital else country
    kind = ("language", "capital" if is_capital else "country")[rng.integers(2)]
    templates = PLACE_TEMPLATES[kind]
    return templates[rng.integers(len(templates))].format(w=word, lang=lang)


def _animal_sentence(rng: np.random.Generator) -> str:
    animal = list(ANIMALS)[rng.integers(len(ANIMALS))]
    sound, food = ANIMALS[animal]
    template = ANIMAL_TEMPLATES[rng.integers(len(ANIMAL_TEMPLATES))]
    return template.format(w=animal, sound=sound, food=food)


def make_analogy_corpus(n_sentences: int = 4000,
                        rng: int | np.random.Generator | None = None) -> list[str]:
    """``n_sentences`` lower-case sentences (words separated by single spaces).

    Shapes: -> list of N strings. People and places each get 40% of the
    sentences, animals 20%; every random choice comes from ``rng``. Chapter 13.
    """
    n = check_positive_int(n_sentences, "make_analogy_corpus", "n_sentences")
    rng = make_rng(rng, "make_analogy_corpus")
    makers = (_person_sentence, _place_sentence, _animal_sentence)
    families = rng.choice(len(makers), size=n, p=list(FAMILY_WEIGHTS.values()))
    return [makers[f](rng) for f in families]


def analogy_questions(family: str = "all") -> list[tuple[str, str, str, str]]:
    """Questions (a, b, c, d): "a is to b as c is to d", with d the expected answer.

    ``family``: "people" (pairs that differ in one attribute, e.g. king:queen ::
    man:woman, 72 questions), "capitals" (country : capital, 56 questions) or
    "all". Chapter 13.
    """
    if family not in ("people", "capitals", "all"):
        raise ValueError(f"analogy_questions expected family 'people', 'capitals' or 'all'; "
                         f"got {family!r}")
    questions = []
    if family in ("people", "all"):
        by_attrs = {attrs: word for word, attrs in PEOPLE.items()}
        for axis in range(3):
            pairs = []  # (word, the word that differs only in attribute `axis`), one direction
            for word, attrs in PEOPLE.items():
                values = sorted({a[axis] for a in PEOPLE.values()})
                if attrs[axis] == values[0]:
                    flipped = attrs[:axis] + (values[1],) + attrs[axis + 1:]
                    pairs.append((word, by_attrs[flipped]))
            for (a, b), (c, d) in itertools.permutations(pairs, 2):
                questions += [(a, b, c, d), (b, a, d, c)]
    if family in ("capitals", "all"):
        for (a, (b, _)), (c, (d, _)) in itertools.permutations(COUNTRIES.items(), 2):
            questions.append((a, b, c, d))
    return questions


def word_groups() -> dict[str, list[str]]:
    """The corpus's word families, for colouring plots: name -> words."""
    return {"people": list(PEOPLE), "countries": list(COUNTRIES),
            "capitals": [cap for cap, _ in COUNTRIES.values()],
            "languages": [lang for _, lang in COUNTRIES.values()],
            "animals": list(ANIMALS)}

"""Calibrate the paraphrase threshold of ``verbatim check`` on generated pairs.

Method (run: ``python -m bench.check_calibrate``):

- **Paraphrases** (should be "paraphrase only"): every sentence of the corpus's passages
  (at least 6 words) is rewritten by rules: words replaced by synonyms from a fixed
  French list, function words by others of the same sense (le → ce, nous → on…), filler
  adverbs dropped, and the two halves around a comma swapped. Only rewrites that the
  textual matcher no longer finds (verdict ``not_found`` before the dense step) are
  kept, the first of up to four more and more thorough ones: the threshold only ever
  judges those.
- **Unrelated** (should stay "not found"): ``tests/data/outside_sentences.txt``, 80
  sentences the corpus neither holds nor says (40 on other subjects, 40 on the corpus's
  own subjects with other claims).
- Each group is split in two with a fixed seed: a **calibration** half and a
  **held-out** half. The threshold is the one that minimises the sum of the two error
  rates (paraphrases missed + unrelated sentences taken for paraphrases) on the
  calibration half, in the middle of the range of equally good thresholds; the error
  rates are then measured on the held-out half, which played no part in the choice.
- The score is the cosine between the quote (embedded as a query) and a sentence of the
  closest passages, plus a weight times the share of the quote's words (BM25's stemmed
  words) that the sentence uses; the weight is chosen on the calibration half too, among
  ``WEIGHTS``. Cosine alone is reported for comparison.
"""
from __future__ import annotations

import argparse
import random
import re

from bench.common import ROOT, save, table

OUTSIDE = ROOT / "tests" / "data" / "outside_sentences.txt"
SEED = 14
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2)  # weights of the share of words in common, tried

# Replacements that keep the meaning (approximately), for the corpus's frequent words.
SYNONYMS = {
    "journée": "rencontre", "rencontres": "conférences", "série": "suite", "ouverte": "inaugurée",
    "souligné": "insisté sur le fait", "rappelé": "remis en mémoire", "expliqué": "montré", "évoqué": "abordé",
    "présenté": "exposé", "abordés": "traités", "discuté": "débattu", "question": "problème", "questions": "sujets",
    "numérique": "digital", "numériques": "digitaux", "outils": "instruments", "technologie": "technique",
    "intelligence": "IA", "données": "informations", "algorithmes": "programmes", "algorithme": "programme",
    "surveillance": "contrôle", "personnes": "gens", "citoyens": "habitants", "droits": "libertés",
    "fondamentaux": "essentiels", "vulnérables": "fragiles", "fragiles": "vulnérables", "travailleurs": "professionnels",
    "professionnels": "praticiens", "social": "sociétal", "sociaux": "sociétaux", "société": "population",
    "important": "essentiel", "essentielle": "fondamentale", "nécessaire": "indispensable", "indispensable": "essentiel",
    "impact": "effet", "impacts": "effets", "effets": "conséquences", "conséquences": "répercussions",
    "environnemental": "écologique", "environnementaux": "écologiques", "écologique": "environnementale",
    "planète": "Terre", "monde": "globe", "pays": "nation", "continent": "territoire", "européenne": "de l’Europe",
    "européen": "de l’Europe", "augmenter": "croître", "augmentation": "hausse", "grandit": "augmente",
    "produit": "génère", "provoque": "entraîne", "entraînerait": "provoquerait", "engendre": "produit",
    "contribue": "participe", "utilisation": "usage", "usages": "pratiques", "pratiques": "habitudes",
    "stocker": "conserver", "traces": "empreintes", "activité": "action", "humaine": "des humains",
    "réussi": "pu", "définir": "établir", "liens": "rapports", "lien": "rapport", "différents": "divers",
    "différentes": "diverses", "nombreux": "multiples", "nombreuses": "multiples", "beaucoup": "énormément",
    "souvent": "fréquemment", "désormais": "maintenant", "aujourd’hui": "à présent", "ensuite": "puis",
    "rarement": "peu", "toujours": "sans cesse", "largement": "amplement", "longuement": "en détail",
    "premier": "principal", "pire": "plus grave", "pires": "plus graves", "morts": "décès", "sol": "sous-sol",
    "matières": "ressources", "premières": "brutes", "minerais": "métaux", "accord": "traité",
    "demandent": "réclament", "pression": "contrainte", "combats": "affrontements", "armés": "militaires",
    "étude": "enquête", "nombre": "quantité", "équipements": "appareils", "équipement": "matériel",
    "consommation": "dépense", "énergie": "électricité", "eau": "ressources en eau", "empreinte": "impact",
    "santé": "bien-être", "mentale": "psychique", "dépendance": "addiction", "anxiété": "angoisse",
    "isolement": "solitude", "jeunes": "adolescents", "enfants": "petits", "parents": "familles",
    "familles": "foyers", "écrans": "appareils", "solutions": "réponses", "stratégies": "méthodes",
    "menaces": "dangers", "menace": "met en danger", "vie": "existence", "privée": "intime",
    "liberté": "droit", "expression": "parole", "reconnaissance": "identification", "faciale": "du visage",
    "discriminations": "inégalités", "contrôles": "vérifications", "risques": "dangers", "fraudes": "tricheries",
    "textes": "lois", "exceptions": "dérogations", "objectifs": "buts", "protection": "défense",
    "occasion": "chance", "manquée": "ratée", "négociation": "discussion", "consensus": "compromis",
    "approche": "méthode", "basée": "fondée", "auteurs": "écrivains", "artistes": "créateurs",
    "machines": "systèmes", "génératives": "qui génèrent", "établissements": "structures", "terminée": "achevée",
    "notion": "idée", "souveraineté": "indépendance", "dialogue": "échange", "mesurer": "constater",
    "démocratique": "politique", "écologie": "environnement", "précarité": "pauvreté", "climatique": "du climat",
    "mutations": "transformations", "victimes": "cibles", "diffusion": "propagation", "spécialiste": "expert",
    "attentif": "vigilant", "métiers": "professions", "excellente": "très bonne", "histoire": "passé",
    "informatique": "numérique", "expérience": "savoir", "accumulée": "amassée", "probabilités": "prévisions",
    "habitants": "résidents", "convoitises": "envies", "monétiser": "vendre", "patrimoine": "bien commun",
    "encadrement": "régulation", "adoptés": "votés", "témoignage": "récit", "émouvant": "touchant",
    "exportateur": "vendeur", "importation": "achat", "faciliter": "simplifier", "assurer": "garantir",
    "sérieuses": "graves", "sérieux": "lourds", "parti": "sorti", "entendre": "écouter", "problème": "difficulté",
    "aspects": "dimensions", "écologiques": "environnementaux", "développé": "présenté", "coût": "prix",
    "production": "fabrication", "fonctionnement": "usage", "recyclage": "retraitement", "milliards": "milliers de millions",
    "polluent": "salissent", "crises": "conflits", "reconnaitre": "admettre", "trafic": "flux", "multiplié": "accru",
    "disparités": "inégalités", "masse": "poids", "diviser": "réduire", "virtuel": "immatériel",
    "violence": "brutalité", "femmes": "épouses", "dématérialisation": "numérisation", "handicap": "invalidité",
    "âgées": "vieilles", "perdent": "voient disparaître", "procédures": "démarches", "réflexion": "pensée",
    "rejeter": "refuser", "retrouver": "reprendre", "équitable": "juste", "responsable": "raisonné",
    "apprécié": "aimé", "termes": "mots", "intervenants": "orateurs", "exploré": "étudié", "détournée": "déviée",
    "renforcer": "accroître", "injustice": "iniquité", "cœur": "centre", "dissuasif": "décourageant",
    "manifester": "défiler", "empirer": "aggraver", "situations": "cas", "soumis": "exposés", "peine": "punition",
    "perte": "disparition", "renouvellement": "prolongation", "bénéfique": "favorable", "anticiper": "prévoir",
    "détection": "repérage", "transparence": "clarté", "biais": "travers", "documentés": "décrits",
    "excessive": "abusive", "nocifs": "néfastes", "culpabiliser": "accuser", "actions": "démarches",
    "justice": "tribunal", "simple": "seule", "suffit": "marche", "phénomène": "problème", "milieux": "catégories",
    "exploitation": "utilisation", "efficace": "performante", "adolescents": "ados", "défense": "protection",
}
# Function words and phrasings swapped for others of the same sense.
FUNCTION = {
    "le": "ce", "la": "cette", "les": "ces", "un": "ce", "une": "cette", "nous": "on", "est": "se trouve",
    "sont": "se trouvent", "a": "avait", "ont": "avaient", "il": "celui-ci", "elle": "celle-ci", "ils": "ceux-ci",
    "qui": "lequel", "que": "qu’en fait", "pour": "afin de", "avec": "en compagnie de", "sur": "concernant",
    "dans": "au sein de", "mais": "cependant", "car": "puisque", "comme": "ainsi que", "plus": "davantage",
    "entre": "parmi", "depuis": "à partir de", "contre": "à l’encontre de", "par": "grâce à",
}
FILLERS = frozenset("également ainsi notamment aussi donc bien très ensuite enfin alors vraiment déjà pourtant toujours".split())
_TOKEN = re.compile(r"[^\W\d_][\w’'-]*|\S")


def paraphrase(sentence: str, rng: random.Random, function_words: float = 0.5) -> str:
    """A rewrite of ``sentence`` by rules: synonyms, fillers dropped, function words
    swapped (with probability ``function_words``), halves around a comma swapped."""
    words = _TOKEN.findall(sentence)
    out = []
    for w in words:
        low = w.lower()
        if low in FILLERS:
            continue
        rep = SYNONYMS.get(low) if rng.random() < 0.9 else None
        if rep is None and low in FUNCTION and rng.random() < function_words:
            rep = FUNCTION[low]
        if rep:
            out.append(rep[0].upper() + rep[1:] if w[0].isupper() else rep)
        else:
            out.append(w)
    text = " ".join(out)
    text = re.sub(r"\s+([,.;:!?»)])", r"\1", text).replace("( ", "(")
    head, sep, tail = text.partition(", ")
    if sep and len(head.split()) >= 4 and len(tail.split()) >= 4 and rng.random() < 0.7:
        tail = tail.rstrip(".!?…")
        text = f"{tail[0].upper()}{tail[1:]}, {head[0].lower()}{head[1:]}."
    return text


def outside_sentences() -> dict[str, list[str]]:
    """The sentences of ``tests/data/outside_sentences.txt`` by group (``## name``)."""
    groups: dict[str, list[str]] = {}
    name = "other"
    for line in OUTSIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            name = line[3:].strip()
        elif line.strip() and not line.startswith("#"):
            groups.setdefault(name, []).append(line.strip())
    return groups


def _halves(items: list, rng: random.Random) -> tuple[list, list]:
    items = list(items)
    rng.shuffle(items)
    return items[: len(items) // 2], items[len(items) // 2 :]


def _rates(pos: list[float], neg: list[float], t: float) -> tuple[float, float]:
    """(paraphrases missed, unrelated taken for paraphrases) at threshold ``t``."""
    return sum(s < t for s in pos) / len(pos), sum(s >= t for s in neg) / len(neg)


def choose_threshold(pos: list[float], neg: list[float]) -> float:
    """The threshold minimising missed + false paraphrases, mid-range of the best ones."""
    cuts = sorted(set(pos) | set(neg))
    candidates = [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] or cuts
    errors = [sum(_rates(pos, neg, t)) for t in candidates]
    best = min(errors)
    good = [t for t, e in zip(candidates, errors) if e == best]
    return round((good[0] + good[-1]) / 2, 3)


def calibrate(index, embedder) -> dict:
    """Generate the pairs, score them, choose the threshold on one half, measure on the other."""
    from chat.check import _check_quote
    from chat.paraphrase import paraphrase_candidates
    from chat.matcher import SourceMatcher
    from index.fusion import FRAME_PARTS

    rng = random.Random(SEED)
    matcher = SourceMatcher.from_index(index)
    sentences = []
    for c in index.chunks:
        if c.part in FRAME_PARTS:
            # What people quote is the content: the interviewer's questions, the closing
            # line, credits and the comment header frame it (and are not in the pairs the
            # threshold was calibrated on).
            continue
        text = index.texts[c.source_id]
        sentences += [text[s:e] for s, e in c.sentences if len(text[s:e].split()) >= 6]
    kept = []
    for s in sentences:
        # Up to four rewrites, more and more thorough; the first the matcher no longer finds.
        for attempt in range(4):
            p = paraphrase(s, rng, function_words=0.3 + 0.2 * attempt)
            if _check_quote(p, 0, len(p), matcher).verdict == "not_found":
                kept.append((s, p))
                break
    groups = outside_sentences()
    negatives = [(g, s) for g, lst in groups.items() for s in lst]
    pos_cal, pos_held = _halves(kept, rng)
    neg_cal, neg_held = _halves(negatives, rng)

    cands = {name: paraphrase_candidates([p[1] for p in pairs], index, embedder)
             for name, pairs in (("pc", pos_cal), ("ph", pos_held), ("nc", neg_cal), ("nh", neg_held))}

    def scores(name: str, w: float) -> list[float]:
        return [max(cos + w * share for _, _, cos, share in c) for c in cands[name]]

    # The weight of shared words and the threshold, both chosen on the calibration half.
    best = None
    for w in WEIGHTS:
        pc, nc = scores("pc", w), scores("nc", w)
        t = choose_threshold(pc, nc)
        err = sum(_rates(pc, nc, t))
        if best is None or err < best[0] - 1e-9:
            best = (err, w, t)
    _, w, t = best
    pc, ph, nc, nh = scores("pc", w), scores("ph", w), scores("nc", w), scores("nh", w)
    miss_c, false_c = _rates(pc, nc, t)
    miss_h, false_h = _rates(ph, nh, t)
    false_by_group = {g: _rates([1.0], [s for (gg, _), s in zip(neg_held, nh) if gg == g], t)[1] for g in groups}
    return {
        "threshold": t, "overlap_weight": w, "cosine_only_threshold": choose_threshold(scores("pc", 0.0), scores("nc", 0.0)),
        "cosine_only_held_out": dict(zip(("missed", "false_paraphrase"), _rates(scores("ph", 0.0), scores("nh", 0.0), choose_threshold(scores("pc", 0.0), scores("nc", 0.0))))),
        "sentences": len(sentences), "rewrites_textually_found": len(sentences) - len(kept),
        "calibration": {"paraphrases": len(pc), "unrelated": len(nc), "missed": miss_c, "false_paraphrase": false_c},
        "held_out": {"paraphrases": len(ph), "unrelated": len(nh), "missed": miss_h, "false_paraphrase": false_h,
                     "false_paraphrase_by_group": false_by_group},
        "score_ranges": {"paraphrases": [min(pc + ph), max(pc + ph)], "unrelated": [min(nc + nh), max(nc + nh)]},
        "examples": [{"source": s, "rewrite": p} for s, p in kept[:3]],
    }


def run(quiet: bool = False) -> dict:
    from index.build import default_index_dir, make_embedder, open_index
    from index.convert import default_model_dir
    from index.settings import Settings

    settings = Settings(model_dir=default_model_dir())
    embedder = make_embedder(settings, quiet=True)
    corpus = ROOT / "corpus"
    index = open_index(corpus, default_index_dir(corpus), settings, embedder, quiet=quiet)
    r = calibrate(index, embedder)
    rows = [[half, r[half]["paraphrases"], r[half]["unrelated"], f"{r[half]['missed']:.1%}", f"{r[half]['false_paraphrase']:.1%}"]
            for half in ("calibration", "held_out")]
    print(table(f"Paraphrase threshold {r['threshold']}, word-share weight {r['overlap_weight']} (chosen on the calibration half; "
                f"in use: {settings.check_paraphrase_min}, {settings.check_overlap_weight})", ["half", "paraphrases", "unrelated", "missed", "false paraphrase"], rows))
    print(f"{r['rewrites_textually_found']} of {r['sentences']} rewrites were still found textually (left out); "
          f"held-out false paraphrases by group: {r['held_out']['false_paraphrase_by_group']}")
    print(f"cosine alone (weight 0): threshold {r['cosine_only_threshold']}, held out: {r['cosine_only_held_out']}")
    save("check_calibrate", r)
    return r


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quiet", action="store_true")
    run(p.parse_args().quiet)

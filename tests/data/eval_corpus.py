"""The evaluation corpus: the interview plus four added documents of other formats.

Everything in the added documents is FICTIONAL: the département of Haute-Vernière, the
town of Port-Sillac, the Val d'Orbe association, the Monts d'Argelle training institute,
every person, organisation, date and figure in them is invented for the evaluation. They
are written on topics next to the interview's (social work, digital services, algorithms,
AI) so that retrieval must tell neighbouring passages apart, and none of them answers the
on-topic questions of ``tests/data/heldout/questions.jsonl`` that are marked unanswerable.

    python tests/data/eval_corpus.py /tmp/eval-corpus    # writes a complete corpus folder

Formats: a PDF report (3 pages, running header and footer), an HTML press article (with
navigation and footer that must not be indexed), a Markdown meeting record and a Word
training note.
"""
from __future__ import annotations

import io
import shutil
import sys
import textwrap
from pathlib import Path

if __package__:  # imported as tests.data.eval_corpus
    from tests.data.make_samples import framed, pdf_bytes
else:  # run as a script: its own folder is on sys.path
    from make_samples import framed, pdf_bytes

HERE = Path(__file__).resolve().parent

INTERVIEW = HERE.parent.parent / "corpus" / "contre-sommet-ia-interview.txt"
INTERVIEW_SOURCE = HERE.parent.parent / "corpus" / "sources.toml"

# -- PDF: a departmental report -----------------------------------------------------------

REPORT_ID = "rapport-dematerialisation-haute-verniere"
REPORT_FILE = "rapport-dematerialisation.pdf"
REPORT_TITLE = "Rapport sur la dématérialisation des prestations sociales en Haute-Vernière"
REPORT_AUTHOR = "Mission d'évaluation du Conseil départemental de la Haute-Vernière"
# One list per page, one string per paragraph (paragraphs never cross a page here, so a
# page holds whole answers).
REPORT_PAGES: list[list[str]] = [
    [
        "Le présent rapport a été remis le 14 novembre 2024 à l'assemblée départementale de la "
        "Haute-Vernière par la mission d'évaluation présidée par Mme Odile Ferrand-Lacaze, "
        "vice-présidente chargée des solidarités. Il porte sur les trois années qui ont suivi la mise "
        "en ligne du portail « Vernière Droits », ouvert en mars 2021.",
        "En 2023, 71 % des demandes de revenu de solidarité active et 83 % des demandes d'allocation "
        "personnalisée d'autonomie ont été déposées en ligne, contre respectivement 22 % et 9 % en 2020. "
        "Le délai moyen d'instruction est passé de 41 à 26 jours.",
        "Cette progression masque de fortes inégalités. Dans les cantons de montagne de Sarvel et du "
        "Haut-Lizon, un foyer sur quatre ne dispose d'aucune connexion fixe, et le réseau mobile reste "
        "instable dans la moitié des hameaux.",
        "La mission a recensé 1 240 dossiers abandonnés en cours de saisie sur le portail durant "
        "l'année 2023. Parmi les personnes recontactées par téléphone, près de six sur dix ont déclaré "
        "avoir renoncé faute de savoir numériser une pièce justificative.",
    ],
    [
        "Les secrétaires de mairie et les agents d'accueil des maisons départementales des "
        "solidarités ont vu leur charge augmenter : ils déclarent consacrer en moyenne une heure et "
        "demie par jour à aider des usagers à créer un compte ou à retrouver un mot de passe.",
        "M. Rachid Belkacem, chef du service insertion, a indiqué à la mission que certains "
        "allocataires du RSA avaient perdu leurs droits pendant plusieurs mois parce qu'une "
        "notification n'était envoyée que par courriel.",
        "Mme Anne-Sophie Delorme, assistante sociale à la maison des solidarités de Sarvel, a décrit "
        "des personnes âgées qui confient leurs identifiants à un voisin ou à un petit-enfant, avec des "
        "risques d'abus qu'aucun service ne mesure aujourd'hui.",
        "La mission recommande de maintenir dans chaque maison départementale des solidarités un "
        "guichet papier ouvert au moins trois demi-journées par semaine, sans rendez-vous.",
        "Elle recommande également de recruter douze médiateurs numériques itinérants, qui se "
        "déplaceront en camping-car dans les communes de moins de cinq cents habitants.",
    ],
    [
        "Le rapport demande que toute décision de suspension d'une prestation soit précédée d'un "
        "appel téléphonique d'un agent, et qu'aucune suspension ne soit prononcée sur la seule base "
        "d'un traitement automatisé.",
        "Le coût de ces mesures est estimé à 2,3 millions d'euros sur trois ans, dont 60 % pour les "
        "postes de médiateurs. L'assemblée départementale a voté le principe du plan le 9 décembre "
        "2024, avec une première évaluation prévue en juin 2026.",
        "En conclusion, la mission rappelle que la dématérialisation doit rester une possibilité "
        "offerte aux usagers et non une obligation, et que le droit à un interlocuteur humain fait "
        "partie du service public.",
    ],
]


def report_pdf() -> bytes:
    """The report as a 3-page PDF: lines wrapped at 85 characters, blank lines between
    paragraphs, a running header and a numbered footer."""
    pages = []
    for paragraphs in REPORT_PAGES:
        lines: list[str] = []
        for i, para in enumerate(paragraphs):
            if i:
                lines.append("")
            lines.extend(textwrap.wrap(para, 85))
        pages.append(lines)
    return pdf_bytes(
        framed(pages, "Conseil départemental de la Haute-Vernière - Rapport de la mission d'évaluation"),
        title=REPORT_TITLE,
        author=REPORT_AUTHOR,
        created="D:20241114000000Z",
    )


# -- HTML: a local press article ----------------------------------------------------------

ARTICLE_ID = "courrier-port-sillac-algorithme-caf"
ARTICLE_FILE = "algorithme-caf-port-sillac.html"
ARTICLE_TITLE = "À Port-Sillac, l'algorithme de la caisse d'allocations familiales passé au crible"
ARTICLE_AUTHOR = "Mathilde Kervern"
ARTICLE_PARAGRAPHS = [
    "Pendant huit mois, un collectif d'allocataires, de chercheurs et de travailleurs sociaux a "
    "examiné le score de risque qu'utilise la caisse d'allocations familiales de Port-Sillac pour "
    "choisir les dossiers à contrôler. Ses conclusions ont été présentées mardi 11 juin à la maison "
    "des associations.",
    "Le collectif, baptisé « Transparence Allocs », s'est constitué en octobre 2023 à l'initiative "
    "de l'association Droits Devant Estuaire. Il réunit une quinzaine de membres, dont deux "
    "statisticiennes de l'université de Lorvenn.",
    "Grâce à une demande d'accès aux documents administratifs, le collectif a obtenu la liste des "
    "37 variables prises en compte par le modèle. On y trouve l'âge, la situation familiale, le "
    "nombre de déménagements ou encore le fait d'avoir signalé un changement de revenus dans les "
    "derniers mois.",
    "Selon l'analyse menée par la statisticienne Inès Marchetti, maîtresse de conférences à "
    "l'université de Lorvenn, une mère isolée touchant l'allocation de soutien familial a trois fois "
    "plus de chances d'être contrôlée qu'un couple sans enfant aux revenus comparables.",
    "« Le score ne mesure pas la fraude, il mesure la fragilité », résume Yannick Le Goff, éducateur "
    "spécialisé et porte-parole du collectif. Il rappelle que la plupart des indus détectés viennent "
    "d'erreurs de déclaration, non d'intentions frauduleuses.",
    "En 2023, la caisse a effectué 4 800 contrôles sur place, dont 70 % déclenchés par le score. Le "
    "montant moyen des indus réclamés s'élevait à 1 150 euros.",
    "Interrogé par nos soins, le directeur de la caisse, Bertrand Olivo, assure que le modèle « ne "
    "prend aucune décision » et qu'un contrôleur examine chaque dossier. Il s'est engagé à publier le "
    "code source du modèle avant la fin de l'année.",
    "Les membres du collectif ont demandé la suppression des variables liées à la situation "
    "familiale et au lieu de résidence, ainsi qu'une information écrite des allocataires chaque fois "
    "qu'un contrôle résulte du score.",
    "Ils réclament aussi la création d'un comité de suivi où siégeraient des allocataires, sur le "
    "modèle de ce qui existe pour le fonds de solidarité logement.",
    "La Défenseure des droits a été saisie en avril par l'association. Sa déléguée territoriale, "
    "Sylvie Arnaudet, a confirmé avoir reçu une quarantaine de réclamations d'allocataires de la "
    "commune depuis janvier.",
    "Prochain rendez-vous : une réunion publique est prévue le 2 juillet à la salle des fêtes du "
    "quartier de Kerlann, en présence d'élus municipaux.",
]


def article_html() -> str:
    """The article inside <main><article>, with navigation, a sidebar and a footer around it."""
    body = "\n".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="fr"><head>
<meta charset="utf-8">
<title>{ARTICLE_TITLE} | Le Courrier de Port-Sillac</title>
<meta name="author" content="{ARTICLE_AUTHOR}">
<meta property="article:published_time" content="2024-06-13T07:30:00Z">
<script>window.analytics = "script du site, jamais indexé";</script>
</head><body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/faits-divers">Faits divers</a></li>
<li><a href="/sport">Sport : le derby de la presqu'île</a></li><li><a href="/meteo">Météo locale</a></li></ul></nav>
<main><article>
<h1>{ARTICLE_TITLE}</h1>
{body}
</article></main>
<footer><p>© Le Courrier de Port-Sillac — Mentions légales — Abonnez-vous à notre lettre du matin</p>
<p>Horoscope, mots fléchés et petites annonces dans l'édition papier.</p></footer>
</body></html>
"""


# -- Markdown: an association's meeting record --------------------------------------------

MINUTES_ID = "passerelles-val-d-orbe-compte-rendu"
MINUTES_FILE = "compte-rendu-passerelles.md"
MINUTES_TITLE = "Compte rendu de l'assemblée du 23 janvier 2025"
MINUTES_AUTHOR = "Claire Fontanel"
MINUTES_MD = """# Compte rendu de l'assemblée du 23 janvier 2025

La réunion de l'association Passerelles numériques du Val d'Orbe s'est tenue au centre social
des Tilleuls, à Saint-Aurèle, de 18 h à 20 h 30. Vingt-six adhérents étaient présents, dont onze
travailleurs sociaux en poste et quatre bénévoles d'accueil.

La présidente, Nadia Ouarab, conseillère en économie sociale et familiale, a ouvert la séance en
rappelant que l'association compte désormais 142 adhérents, contre 87 un an plus tôt.

## Les outils d'IA dans nos services

Thomas Réveillère, éducateur en prévention spécialisée, a présenté une enquête menée en décembre
auprès de 58 professionnels du territoire : 31 d'entre eux déclarent avoir déjà utilisé un agent
conversationnel pour rédiger un écrit professionnel, le plus souvent un rapport de situation ou un
courrier.

Parmi eux, seuls cinq disent en avoir informé leur hiérarchie, et aucun n'a reçu de consigne écrite
de son employeur sur ce sujet.

Plusieurs adhérents ont témoigné d'un malaise : une assistante sociale de polyvalence a raconté avoir
collé dans un outil en ligne le récit d'une situation de violences conjugales avant de réaliser
qu'elle n'avait pas retiré le nom de la victime.

Maître Hugo Lestrade, avocat invité, a rappelé que les données saisies dans ces services peuvent être
conservées à l'étranger et réutilisées pour entraîner les modèles, ce qui est incompatible avec la
protection des personnes accompagnées.

## Débat

Les participants ont demandé que les employeurs du territoire adoptent une charte commune avant
l'été, et qu'un temps d'échange sur les pratiques numériques soit inscrit dans chaque réunion
d'équipe.

Ils ont aussi demandé que les personnes accompagnées soient informées lorsqu'un écrit les concernant
a été préparé avec un outil automatique.

Une minorité, emmenée par Julien Mathurin, moniteur-éducateur, a défendu l'usage de ces outils pour
les personnes qui maîtrisent mal l'écrit, à condition qu'elles en gardent la maîtrise.

## Décisions

L'assemblée a décidé de créer un groupe de travail de six membres, coordonné par Thomas Réveillère,
chargé de rédiger un projet de charte d'ici le 30 avril 2025.

Elle a également voté, à l'unanimité moins deux abstentions, l'organisation d'une journée de
formation ouverte aux adhérents le 15 mars, animée par l'avocat invité.

La prochaine assemblée aura lieu le 27 mars 2025. Compte rendu rédigé par Claire Fontanel,
secrétaire de l'association.
"""

# -- Word: a training note ----------------------------------------------------------------

NOTE_ID = "note-secret-professionnel-chatbots"
NOTE_FILE = "note-secret-professionnel.docx"
NOTE_TITLE = "Secret professionnel et agents conversationnels"
NOTE_AUTHOR = "Bérénice Caradec"
# (heading?, text)
NOTE_BLOCKS: list[tuple[bool, str]] = [
    (True, NOTE_TITLE),
    (
        False,
        "Cette note accompagne le module de formation continue « Écrits professionnels et outils "
        "numériques », proposé depuis septembre 2024 aux travailleurs sociaux des établissements "
        "adhérents de l'Institut de formation sociale des Monts d'Argelle. Elle a été rédigée par "
        "Bérénice Caradec, formatrice en droit de l'action sociale.",
    ),
    (True, "Ce que dit le droit"),
    (
        False,
        "Le secret professionnel interdit de révéler une information à caractère secret dont on est "
        "dépositaire par état ou par profession. Sa violation est punie d'un an d'emprisonnement et de "
        "15 000 euros d'amende par l'article 226-13 du code pénal.",
    ),
    (
        False,
        "Saisir le récit d'une situation dans un agent conversationnel hébergé par une entreprise revient "
        "à transmettre cette information à un tiers, même si l'outil semble n'être qu'une machine.",
    ),
    (True, "Recommandations"),
    (
        False,
        "La note recommande de ne jamais saisir dans un outil d'IA un nom, une adresse, une date de "
        "naissance ou tout détail permettant de reconnaître une personne, y compris de façon indirecte.",
    ),
    (
        False,
        "Elle recommande de privilégier les outils installés sur les serveurs de l'employeur, validés "
        "par le délégué à la protection des données, plutôt que les services grand public.",
    ),
    (
        False,
        "Tout écrit préparé avec l'aide d'un outil automatique doit être relu, corrigé et signé par le "
        "professionnel, qui en reste seul responsable.",
    ),
    (True, "Exercices"),
    (
        False,
        "Au cours du module, les stagiaires réécrivent trois rapports sociaux fictifs en retirant tout "
        "élément identifiant, puis comparent leurs versions en groupe.",
    ),
    (
        False,
        "Lors de la session pilote de novembre 2024, 19 stagiaires sur 24 n'avaient pas repéré qu'un "
        "prénom rare associé au nom d'une commune suffisait à identifier une famille.",
    ),
    (True, "Contact"),
    (
        False,
        "Pour toute question, les stagiaires peuvent s'adresser au référent éthique de l'institut, "
        "Marc-Antoine Vidal, présent chaque jeudi au centre de ressources.",
    ),
]


def note_docx() -> bytes:
    """The training note as a Word document with headings and core properties."""
    import datetime as dt

    import docx

    d = docx.Document()
    d.core_properties.title = NOTE_TITLE
    d.core_properties.author = NOTE_AUTHOR
    d.core_properties.created = dt.datetime(2025, 3, 3, 9, 0, 0)
    for heading, text in NOTE_BLOCKS:
        if heading:
            d.add_heading(text, level=1 if text == NOTE_TITLE else 2)
        else:
            d.add_paragraph(text)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


# -- the corpus folder --------------------------------------------------------------------

ADDED_SOURCES = f"""
[[source]]
id = "{REPORT_ID}"
file = "{REPORT_FILE}"
title = "{REPORT_TITLE}"
kind = "report"
author = "{REPORT_AUTHOR}"
publisher = "Conseil départemental de la Haute-Vernière"
date = "2024-11-14"
language = "fr"

[[source]]
id = "{ARTICLE_ID}"
file = "{ARTICLE_FILE}"
title = "{ARTICLE_TITLE}"
kind = "article"
author = "{ARTICLE_AUTHOR}"
publisher = "Le Courrier de Port-Sillac"
date = "2024-06-13"
url = "https://courrier-port-sillac.example/2024/06/13/algorithme-caf-passe-au-crible"
language = "fr"

[[source]]
id = "{MINUTES_ID}"
file = "{MINUTES_FILE}"
title = "{MINUTES_TITLE}"
kind = "minutes"
author = "{MINUTES_AUTHOR}"
publisher = "Passerelles numériques du Val d'Orbe"
date = "2025-01-23"
language = "fr"

[[source]]
id = "{NOTE_ID}"
file = "{NOTE_FILE}"
title = "{NOTE_TITLE}"
kind = "note"
author = "{NOTE_AUTHOR}"
publisher = "Institut de formation sociale des Monts d'Argelle"
date = "2025-03"
language = "fr"
"""

ADDED = {REPORT_ID: "pdf", ARTICLE_ID: "html", MINUTES_ID: "markdown", NOTE_ID: "docx"}


def _interview_record() -> str:
    """The interview's [[source]] record (and its links) as written in corpus/sources.toml."""
    text = INTERVIEW_SOURCE.read_text(encoding="utf-8")
    start = text.index("\n[[source]]") + 1  # the first record, not the comment that names it
    return text[start:].rstrip() + "\n"


def write_eval_corpus(dest: Path) -> Path:
    """Write the evaluation corpus (the interview and the four added documents, with
    their ``sources.toml``) into ``dest``; return ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INTERVIEW, dest / INTERVIEW.name)
    (dest / REPORT_FILE).write_bytes(report_pdf())
    (dest / ARTICLE_FILE).write_text(article_html(), encoding="utf-8")
    (dest / MINUTES_FILE).write_text(MINUTES_MD, encoding="utf-8")
    (dest / NOTE_FILE).write_bytes(note_docx())
    manifest = (
        "# The evaluation corpus: the interview and four fictional documents (tests/data/eval_corpus.py).\n\n"
        + _interview_record()
        + ADDED_SOURCES
    )
    (dest / "sources.toml").write_text(manifest, encoding="utf-8")
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/data/eval_corpus.py DEST_FOLDER")
    print(write_eval_corpus(Path(sys.argv[1])))

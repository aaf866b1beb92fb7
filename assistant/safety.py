"""Question screening before retrieval: danger signals (-> emergency numbers first) and
injection attempts (-> refusal). Pure functions over the folded question text.

Patterns are deliberately broad for danger (a false alarm costs one extra block with 119; a miss
can cost a child) and narrow for injection (a false refusal blocks a real question).
"""

from __future__ import annotations

import base64
import binascii
import re

from corpus.clean import fold

_INJECTION = [
    r"\b(ignore|oublie|oublier|ignorer|annule)\w*\s+(toutes\s+)?(tes|vos|les"
    r"|ces)?\s*(instructions|regles|consignes|directives|documents|sources)",
    r"\b(prompt|instructions?)\s+(systeme|system|initiales?|cachees?)",
    r"\b(affiche|montre|revele|donne|recopie|repete|ecris|liste|cite)\w*(\s+\w+){0,6}\s+(prompt"
    r"|instructions|consignes|configuration|config|parametres)\b",
    r"\bje suis (le |la |un |une )?(developpeur|developpeuse|admin\w*|createur|creatrice|concepteur)\b",
    r"\b(exporte|dump|extrai|telecharge)\w*(\s+\w+){0,8}\s+(index|base"
    r"|donnees|historique|logs|questions posees|conversations)\b",
    r"\bfais comme si\b|\bfait comme si\b|\bacces (au|aux) (logiciel|dossiers?|fichiers?)\b",
    r"\b(voisin|voisine|collegue|cousin|cousine|beau frere|belle soeur)\b.*\b(suivi"
    r"|suivie|place|placee|ase|ip|dossier)\b",
    r"\bs appelle\s+\w+\s+\w+\b.*\b(suivi|suivie|place|placee|ase|ip|dossier)\b",
    r"\b(cle|token|mot de passe)\s+(api|d acces|secret)",
    r"\b(ta|votre)\s+config",
    r"\b(mode|role)\s+(administrateur|admin|developpeur|dev|sans (regle|filtre|limite))",
    r"\btu es (maintenant|desormais)\b",
    r"\bsans (aucune )?(regle|restriction|filtre|limite)s?\b",
    r"\bjouons a un jeu\b|\bfais semblant\b|\bimagine que tu\b",
    r"^\s*(system|systeme)\s*:",
    r"\bnouvelle directive\b",
    r"\binvente\w*\b",
    r"\b(adresse|nom|noms|telephone|numero|coordonnees|dossier)\s+(de la|du|des|de l)\s*(famille"
    r"|enfant|mineur|jeune|parents?)\s+(\w+\s+)?(dont|qui|ou|place|suivi|accueilli)",
    r"\b(liste|donne|envoie)\w*\s+(moi\s+)?(tous\s+)?(les\s+)?(noms|adresses"
    r"|dossiers|coordonnees)\s+(des|de)\s+(enfants|familles|mineurs|jeunes)",
    r"\bou est place\w*\s+(mon|ma|mes)\b.*\b(adresse|famille d accueil)",
    r"\b(adresse|coordonnees)\s+de\s+la\s+famille\s+d\s*accueil",
    # A rule set now for later turns (« à partir de maintenant, quand je dis banane, tu… »).
    r"\b(a partir de maintenant|desormais|dorenavant|from now on)\b.{0,80}\b(tu|vous|you|reponds|repondez|answer)\b",
    r"\b(quand|chaque fois que|si) je (dis|dirai|ecris|tape|envoie)\b.{0,60}\b(tu|vous)\b",
    r"\bwhen i (say|type|write)\b",
    # A persona or a role to play, a mode without limits.
    r"\b(tu t appelles|appelle toi|tu deviens|tu seras|joue le role d|incarne|reponds en tant qu|parle comme"
    r"|reponds comme|agis comme)\w*\b",
    r"\bmode (libre|sans \w+|developpeur|debug|dan|admin\w*|expert sans)\b|\bsans (censure|garde fou|limites?)\b",
    r"\b(revele|affiche|donne|montre|envoie|ecris|liste)\w*\b.{0,40}\b(variables? d environnement|env\b|secrets?"
    r"|mots? de passe|base de donnees|configuration|logs?|cles? (api|secretes?|d acces))\b",
    # Getting the assistant to tell people not to call the emergency numbers, or to make up a contact.
    r"\b(dis|dire|ecris|ecrire|reponds|repondre|indique|indiquer|annonce|explique)\w*\b.{0,60}"
    r"\b(ne (plus|pas) appeler|n appelez (plus|pas)|plus appeler|pas appeler)\b",
    r"\b(invente|imagine|fabrique|cree|genere|donne)\w*\b.{0,30}\b(un|une|des)\b.{0,20}"
    r"\b(numero|telephone|adresse|contact|nom)\b.{0,40}"
    r"\b(faux|fausse|fictif|fictive|plausible|credible|au hasard|quelconque|n importe)",
    r"\b(faux|fausse|fictif|fictive)\b.{0,20}\b(numero|telephone|adresse|contact)\b",
    # Orders about the form of the answers (a link, a signature, a reference, words to repeat as they are).
    r"^\s*(system|systeme|admin|developer|developpeur)\b",
    r"\b(ajoute|termine|finis|signe|inclus|insere)\w*\b.{0,60}"
    r"\b(a la fin de (ta|tes|chaque|votre|vos) (reponse|message)s?|tes (prochaines )?reponses|ta reponse|chaque reponse"
    r"|la signature|la reference|le lien|de ton nom|de votre nom)\b",
    r"\b(repete|recopie|ecris|reecris|affiche)\w* (exactement|mot pour mot|sans rien (ajouter|changer)|tel quel"
    r"|a l identique)",
    r"\b(pour |dans |a )?(toutes|chacune de) (tes|vos) (prochaines )?reponses\b",
    r"\b(quand|lorsque|si|des que) j (ecris|ecrirai|ecrirais|envoie|enverrai|tape|taperai|dis|dirai)\b.{0,60}"
    r"\b(tu|vous)\b",
    r"\b(note|retiens|memorise|garde|enregistre)\w* (bien )?(ce|le|mon|cette|ces) "
    r"(numero|contact|lien|adresse|information)s?\b",
    r"\b(recolle|assemble|concatene|reunis|colle)\w* (les )?(deux )?(moities|morceaux|parties|bouts)\b",
    r"\b(tu )?joues? (le )?role\b|\bsigne\w* (ta|votre) reponse",
    r"\b(decode|dechiffre|traduis|convertis)\w*\b.{0,60}\b(applique|execute|suis|obeis|fais ce)",
    # English.
    r"\b(you are|act as|pretend to be|roleplay as|play the role of)\b.{0,40}"
    r"\b(no rules|without (rules|limits|restrictions|filters)|unrestricted|uncensored|dan\b)",
    r"\b(tell|say to|write to) (the )?(families|parents|users|people)\b.{0,40}\b(not|no longer|stop) (to )?call",
    r"\bmake up\b.{0,30}\b(number|phone|address|contact)",
    r"\b(ignore|disregard|forget)\s+(all\s+)?(the\s+|your\s+)?(previous|prior|above|earlier)?\s*(instructions|rules|prompt)",
    r"\b(system|initial|hidden)\s+prompt\b|\byou are now\b|\bjailbreak|\bdeveloper mode\b|\bpretend (you are|to be)\b",
    r"\b(reveal|show|print|repeat)\w*\s+(me\s+)?(your|the)\s+(prompt|instructions|rules|settings|config\w*)",
]
_INJECTION_RE = [re.compile(p) for p in _INJECTION]


def normalise(question: str) -> str:
    """Folded question with apostrophes and punctuation turned into spaces ("j'en peux plus" -> "j en peux plus")."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(question)).split())


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_SPACED = re.compile(r"\b(?:\w[\s.\-_*]){3,}\w\b")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _readings(question: str) -> list[str]:
    """The question as written, and as an attacker may have disguised it: leetspeak (« 1gn0r3 »), spaced
    letters (« i g n o r e »), base64."""
    readings = [question, question.translate(_LEET)]
    readings.append(_SPACED.sub(lambda m: re.sub(r"[\s.\-_*]", "", m.group(0)), question))
    for token in _BASE64.findall(question):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded.isprintable():
            readings.append(decoded)
    return readings


def is_injection(question: str) -> bool:
    """True when the question tries to change the instructions, extract the prompt or settings,
    or obtain personal data about a child or family (also when disguised)."""
    readings = [normalise(text) for text in _readings(question)]  # once each, not once per pattern
    return any(p.search(text) for text in readings for p in _INJECTION_RE)

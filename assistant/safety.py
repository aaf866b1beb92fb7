"""Question screening before retrieval: danger signals (-> emergency numbers first) and
injection attempts (-> refusal). Pure functions over the folded question text.

Patterns are deliberately broad for danger (a false alarm costs one extra block with 119; a miss
can cost a child) and narrow for injection (a false refusal blocks a real question).
"""

from __future__ import annotations

import re

from corpus.clean import fold

_DANGER = [
    r"\b(me|le|la|les|nous|l|m)\s*(frappe|frappent|bat|battent|tape|tapent|cogne|cognent|brutalise)\b",
    r"\b(frappe|frappé|battu|tape|cogne|secoue|secoué)\w*\s+(mon|ma|mes|notre|nos|son|sa|ses|l|le|la|les|un|une|des)\b",
    r"\bviolen(ce|ces|t|te|ts|tes)\b",
    r"\b(l|m|les|nous|t|la|le)\s+(a|ont|avait|avaient)\s+(frappe|battu|tape"
    r"|cogne|secoue|viole|touche|agresse|brule|etrangle|blesse)e?s?\b",
    r"\bsexuel\w*\b",
    r"\b(a|ont|avait|avaient)\s+(frappe|battu|touche|viole|agresse|secoue|brule|blesse)e?s?\s+"
    r"(mon|ma|mes|notre|nos|son|sa|ses|l|la|le|les|un|une)\b",
    r"\b(zezette|zizi|foufoune|kiki|parties intimes)\b",
    r"\b(ivre|alcoolise\w*|sous l emprise|toxiques?|drogue\w*)\b",
    r"\b(pas soigne\w*|mal nourri\w*|mangent mal|mange mal|pas lave\w*|laisse\w* a l abandon)\b",
    r"\b(tout|toute)\s+seule?s?\s+(le soir|la nuit|a la maison|chez|toute la journee)\b",
    r"\b(refuse|peur) de rentrer\b",
    r"\bmaltrait",
    r"\b(abus|abuse|abusee?s?|attouchements?|agression sexuelle|viol|viole|violee?s?|inceste|pedophil\w*)\b",
    r"\btouche\w*\s+(ses|mes|les)?\s*(parties|sexe|zizi)",
    r"\b(la|le|me|les|nous|lui|leur)\s+touch(e|ent|ait|aient)\b",
    r"\b(bleus?|hematome|ecchymose|brulure|fracture)s?\b",
    r"\b(seul|seule|seuls|seules)\s+(a la maison|chez|toute la|tout le|la nuit|le soir|des jours)",
    r"\b(laisse|abandonne)\w*\s+(seul|seule|seuls|a la rue|dehors)",
    r"\bmenac",
    r"\b(peur|terrorise|terrifie)e?s?\s+(de|d|pour|qu)\s+(lui|elle"
    r"|il|mon|ma|mes|son|sa|ses|le|la|les|ce|cet|faire|mourir)\b",
    r"\b(j en peux plus|je n en peux plus|j en peux p|je craque|a bout|au bout du rouleau|pete un cable)",
    r"\b(je m en sors plus|je ne m en sors plus|je m en sors pas|peter un cable|je vais craquer)\b",
    r"\b(faire du mal|lui faire mal|le secouer|la secouer)\b",
    r"\b(suicid|se tuer|me tuer|mourir|veut mourir|veux mourir|en finir|scarif|se mutile)",
    r"\b(fugue|fugué|disparu|a disparu)\b",
    r"\b(est|sont|serait|seraient|etre|sens|sent)\s+en danger\b",
    r"\b(maltrait\w*|negligence|carences? (educative|de soins|affective)s?)\b",
    r"\b(mange pas a sa faim|rien a manger|pas nourri|ne le nourrit|ne la nourrit|affame)",
    r"\b(enfermee?s?|attachee?s?)\b",
    r"\bprivee?s?\s+de\s+(manger|nourriture|repas|sortir|soins)\b",
    r"\b(prostitu|mariage force|excision|traite)\b",
]
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
]
_DANGER_RE = [re.compile(p) for p in _DANGER]
_INJECTION_RE = [re.compile(p) for p in _INJECTION]


def normalise(question: str) -> str:
    """Folded question with apostrophes and punctuation turned into spaces ("j'en peux plus" -> "j en peux plus")."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(question)).split())


def signals_danger(question: str) -> bool:
    """True when the question suggests a child (or the parent) may be in danger."""
    text = normalise(question)
    return any(p.search(text) for p in _DANGER_RE)


def is_injection(question: str) -> bool:
    """True when the question tries to change the instructions, extract the prompt or settings,
    or obtain personal data about a child or family."""
    text = normalise(question)
    return any(p.search(text) for p in _INJECTION_RE)

"""spaCy's English tokenizer exceptions (special cases such as "don't" -> do|n't, "Dr.", ":)"), generated
the way ``spacy/lang/en/tokenizer_exceptions.py`` generates them; used by :mod:`corpuskit.curate.words`."""

from __future__ import annotations


def _exceptions() -> dict[str, tuple[str, ...]]:
    """The English special cases, generated the way spaCy's ``en/tokenizer_exceptions.py`` generates them."""
    exc: dict[str, tuple[str, ...]] = {}

    def add(orth: str, *parts: str) -> None:
        exc[orth] = parts or (orth,)

    def cap(w: str) -> str:
        return w[:1].upper() + w[1:]

    apos = ("'", "’")
    # pronoun + verb clitics: "I'm", "we're", "it'll", also without the apostrophe ("im", "youre")
    excluded = {"Ill", "ill", "Its", "its", "Hell", "hell", "Shell", "shell", "Shed", "shed", "were", "Were"}
    excluded |= {"Well", "well", "Whore", "whore"}
    clitics = {
        "i": ["m", "ma", "ll", "ll've", "d", "d've", "ve"],
        "you": ["ll", "ll've", "d", "d've", "ve", "re"],
        "he": ["ll", "ll've", "d", "d've", "s"],
        "she": ["ll", "ll've", "d", "d've", "s"],
        "it": ["ll", "ll've", "d", "d've", "s"],
        "we": ["ll", "ll've", "d", "d've", "ve", "re"],
        "they": ["ll", "ll've", "d", "d've", "ve", "re"],
    }
    for w in ["who", "what", "when", "where", "why", "how", "there", "that", "this", "these", "those"]:
        clitics[w] = ["s", "ll", "ll've", "re", "ve", "d", "d've"]
    for word, tails in clitics.items():
        for orth in {word, cap(word), word.upper() if word == "i" else word}:
            for tail in tails:
                pieces = tail.split("'")  # "ll've" -> ["ll", "ve"]
                for a in apos:
                    add(orth + a + a.join(pieces), orth, *[a + p for p in pieces])
                bare = orth + "".join(pieces)
                if bare not in excluded and tail != "ma":
                    add(bare, orth, *pieces)
                if tail == "ma":
                    for a in apos:
                        add(orth + a + "ma", orth, a + "m", "a")
                    add(orth + "ma", orth, "m", "a")
    # verb + n't: "don't", "can't" -> ca|n't, "dont"
    neg = [
        "ca",
        "could",
        "do",
        "does",
        "did",
        "had",
        "may",
        "might",
        "must",
        "need",
        "ought",
        "sha",
        "should",
    ]
    neg += ["wo", "would", "ai", "are", "is", "was", "were", "have", "has", "dare"]
    for verb in neg:
        for orth in (verb, cap(verb)):
            for a in apos:
                add(f"{orth}n{a}t", orth, f"n{a}t")
                add(f"{orth}n{a}t{a}ve", orth, f"n{a}t", f"{a}ve")
            add(f"{orth}nt", orth, "nt")
            add(f"{orth}ntve", orth, "nt", "ve")
    for verb in ["could", "might", "must", "should", "would"]:
        for orth in (verb, cap(verb)):
            for a in apos:
                add(f"{orth}{a}ve", orth, f"{a}ve")
            add(f"{orth}ve", orth, "ve")
    for orth in ("cannot", "Cannot"):
        add(orth, orth[:3], "not")
    for orth, parts in [("gonna", ("gon", "na")), ("gotta", ("got", "ta")), ("notve", ("not", "ve"))]:
        add(orth, *parts)
        add(cap(orth), cap(parts[0]), *parts[1:])
    for a in apos:
        for orth in ("let", "Let"):
            add(f"{orth}{a}s", orth, f"{a}s")
        add(f"y{a}all", f"y{a}", "all")
        add(f"Y{a}all", f"Y{a}", "all")
        for w in ["cause", "cos", "coz", "cuz", "bout", "em", "nuff", "ll", "re", "s", "S", "d"]:
            add(a + w)
            add(a + cap(w))
        for w in ["doin", "goin", "havin", "lovin", "nothin", "nuthin", "somethin", "ol"]:
            add(w + a)
            add(cap(w) + a)
        add(f"ma{a}am")
        add(f"Ma{a}am")
        add(f"o{a}clock")
        add(f"O{a}clock")
    add("yall", "y", "all")
    for w in ["doin", "goin", "havin", "lovin", "nothin", "nuthin", "somethin", "ol", "em", "ll", "nuff"]:
        add(w)
        add(cap(w))
    for h in range(1, 13):
        for p in ["a.m.", "am", "p.m.", "pm"]:
            add(f"{h}{p}", str(h), p)
    for orth in (
        "'d a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc. Jr. Ltd. Md."
        " Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s. Mt. Ak. Ala. Apr. Ariz."
        " Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun. Kan. Kans."
        " Ky. La. Mar. Mass. May. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct."
        " Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis. and/or w/o C++ ' '' ’ ’’ — ‘s ‘S"
    ).split():
        add(orth)
    for c in "abcdefghijklmnopqrstuvwxyzäöü":
        add(c + ".")
    emoticons = (
        ":) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; (-;"
        " :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :’) :’-) :’( :’-( :/ :-/ =/ =| :| :-|"
        " ]= =[ :1 :P :-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D"
        " ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o"
        " o_O O_o O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<)"
        " (*_*) (¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>"
    )
    for e in emoticons.split():
        add(e)
    for c in "CFKcfk":
        add(f"°{c}.", "°", c, ".")
    return exc


EXCEPTIONS = _exceptions()

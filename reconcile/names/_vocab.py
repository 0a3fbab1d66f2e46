"""Closed word classes the splitter recognises: titles, suffixes, particles, company words.

Every key is lowercase, without a trailing period, with the typographic apostrophe folded to
``'`` (see ``key()``). These are short hand-curated lists of *function words* (they decide
where a name's parts are), not name data; given and family names come from
``reconcile.names._lexicon``. Sources: nameparser 2.6's vocabulary packs (fr, en, es, pt, de,
nl, it), French administrative usage, and the cases listed in the issue.
"""

from __future__ import annotations


def _set(words: str) -> frozenset[str]:
    """A word list written one space apart (kept readable, and easy to extend)."""
    return frozenset(words.split())


APOSTROPHES = "’ʼ`´′‘"  # typed in place of ' ; folded for lookups, kept in the output


def key(token: str) -> str:
    """Lookup key of a token: lowercase, apostrophes folded, trailing periods dropped."""
    lowered = token.lower().rstrip(".")
    if not lowered.isalpha():
        for mark in APOSTROPHES:
            if mark in lowered:
                lowered = lowered.replace(mark, "'")
    return lowered


# --- titles (only ever read at the start of the name, or right after "LAST,") ---------------
TITLES = _set(
    """
    m mr mm mme mmes mlle mlles melle mle monsieur madame mademoiselle messieurs dr dre docteur
    me maître maitre pr prof professeur professeure mgr monseigneur abbé abbe père pere sœur
    soeur frère frere mrs ms miss mx mister sir rev revd reverend fr sr sra srta dra señor
    señora señorita senor senora senorita dña doña dª herr frau hr fräulein dipl ing mag dott
    dottssa dott.ssa avv arch geom sig sigra sig.ra signor signora signorina dhr mevr mw ir drs
    ds sheikh cheikh cheik hadj hajj col capt cpt lt sgt adm cmdr
    """
)
# Titles that are also given names: a title only when at least two more words follow
# ("Don Diego de la Vega", but "Don Johnson" is a given name and a family name).
AMBIGUOUS_TITLES = frozenset({"don", "dona", "dame", "lady", "lord", "major", "judge"})

# --- suffixes (only ever read at the end, or after the last comma) -------------------------
SUFFIXES = _set(
    """
    jr jnr junior sr snr senior ii iii iv vii viii phd ph.d md m.d mba msc bsc esq esquire cpa
    dds fils aîné aine cadet
    """
)
# Suffix words that are also common names: a suffix only when written in lowercase, or
# after a comma ("Jean Dupont fils" but "Marie Fils", "Junior Dos Santos").
WEAK_SUFFIXES = frozenset({"fils", "junior", "senior", "aîné", "aine", "cadet", "md"})

# --- particles that open or join a family name --------------------------------------------
# Never a given name: one of these opening the name makes the whole run a family name.
NON_GIVEN_PARTICLES = _set(
    """
    de d' du des dela della delle degli dei von zu vom zum zur der den ter ten dos das do' l' 's
    't af av auf
    """
)
# May also be a given name (Van, Di, Al, Ben, Le, La, Da, Del, El): a particle in the
# middle of a name, a given name when it opens a two-word name ("Van Nguyen", "Ben Smith").
MAY_BE_GIVEN_PARTICLES = _set(
    """
    van la le les lo da di do del dal el al ben bin ibn bint ould ait aït abou abu st saint
    sainte san santa santo mac
    """
)
PARTICLES = NON_GIVEN_PARTICLES | MAY_BE_GIVEN_PARTICLES
# Joiners inside a family name: "Ortega y Gasset", "Silva e Costa", "Puig i Cadafalch".
FAMILY_JOINERS = frozenset({"y", "e", "i", "und"})  # and "von und zu Liechtenstein"
# Given names that continue across a particle: "María del Carmen", "Maria de Fátima".
GIVEN_AFTER_PARTICLE = _set(
    """
    carmen carmo pilar mar rosario rosário fatima fátima lourdes luz conceição conceicao graça
    graca graças gracas dores socorro jesus jesús ángeles angeles glória gloria nazaré nazare
    penha guadalupe rocío rocio consuelo mercedes montserrat remedios dios dieu
    """
)
# Given names that bind to the next word: "Abdel Kader", "Abou Bakr", "Abd al-Rahman".
BOUND_GIVEN = frozenset({"abd", "abdel", "abdul", "abdal", "abou", "abu", "umm", "oum"})

# --- words that say the text is not one person --------------------------------------------
COUPLE_WORDS = frozenset({"et", "and", "&", "und", "ou", "or", "+"})
# After "&" these make a company: "Dupont & Fils", "Martin & Associés".
COMPANY_AFTER_AMPERSAND = frozenset(
    {"fils", "cie", "co", "associés", "associes", "partners", "sons", "frères", "freres"}
)
FAMILY_WORDS = frozenset({"famille", "family", "familie", "famiglia", "familia", "fam"})
MAIDEN_MARKERS = frozenset({"née", "nee", "né", "geb", "geborene", "born", "ép", "ep", "épouse",
                            "epouse", "ép.", "veuve", "vve"})  # fmt: skip

# Legal forms: a company whatever their case. Matched as whole words.
LEGAL_FORMS = _set(
    """
    sarl sas sasu eurl sci snc scop scp selarl selas gie sprl srl spa s.p.a s.a s.a.s s.a.r.l
    s.r.l gmbh ohg ltd ltda limited llc llp inc incorporated corp corporation plc bv b.v n.v oy
    oyj asbl vzw ehf s.l cie
    """
)
# Legal forms that are also name words ("Sa", "Ag", "Sl", "Co"): a company only in capitals.
CAPS_ONLY_LEGAL_FORMS = frozenset({"sa", "ag", "sl", "as", "ab", "co", "kg", "lp", "ug", "nv"})

# Business and role words: the text names an organisation, a shop or a mailbox.
COMPANY_WORDS = _set(
    """
    société societe sté ste compagnie company companies group groupe holding holdings consulting
    consultants conseil conseils services service solutions agence agency cabinet studio studios
    boutique restaurant hôtel hotel boulangerie pâtisserie patisserie pharmacie garage
    immobilier immobiliere immobilière immo assurance assurances banque bank mairie commune
    école ecole lycée lycee collège université universite university institut institute clinique
    club équipe equipe magasin shop store transports transport industries industrie
    international technologies technology software digital media médias marketing communication
    partners associés associes avocats notaires architectes association asso fondation
    foundation syndicat comité comite federation fédération entreprise entreprises atelier
    ateliers laboratoire laboratoires labs enterprises trading import export distribution
    productions editions éditions accueil contact info infos admin administration support
    commercial compta comptabilité comptabilite direction secrétariat secretariat rh recrutement
    newsletter webmaster noreply no-reply sales marketing office bureau team
    """
)

# Placeholder words typed instead of a name.
PLACEHOLDERS = _set(
    """
    test tests testing tester essai essais toto titi tata tutu foo bar baz xxx xx x xxxx aaa
    aaaa abc asdf qwerty azerty n/a na none null nil nan unknown inconnu inconnue anonyme
    anonymous client cliente customer user utilisateur nom prenom prénom name firstname lastname
    surname nobody moi demo dummy sample exemple example mr.x mme.x madame.x monsieur.x ? - . /
    * _
    """
)
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
                 "1234567890")  # fmt: skip

# --- family names that lead in East-Asian order, romanized ----------------------------------
VI_FAMILY = _set(
    """
    nguyen nguyễn tran trần le lê pham phạm hoang hoàng huynh huỳnh phan vu vũ vo võ dang đặng
    bui bùi do đỗ ho hồ ngo ngô duong dương ly lý dinh đinh doan đoàn truong trương lam lâm mai
    trinh trịnh luong lương cao ta tạ
    """
)
VI_MIDDLE = _set(
    """
    van văn thi thị duc đức quang minh ngoc ngọc thanh hoang hoàng xuan xuân huu hữu cong công
    kim hai hải trung tuan tuấn anh bao bảo gia thu
    """
)
ZH_FAMILY = _set(
    """
    wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng
    liang xie song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai jia
    ding wei xue ye yan lu du dai xia zhong tan qiu yao jin hou cui kang shi mo gu meng qin bai
    fang fan shen ren lei long duan hao shao kong wan qian tao hong yin zou xiong qiao wong chan
    cheung leung lau ng ho lam tsang chow yip kwok lee tan lim goh ong teo koh chua tay ang yeo
    low chong foo kwan fung mak tse siu chu chiu choi yau
    """
)
# The most frequent ones: a given name that is one of these makes the order unclear.
ZH_TOP_FAMILY = _set(
    """
    wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo
    """
)
KO_FAMILY = _set(
    """
    kim lee yi park pak choi choe jung jeong chung kang cho jo yoon yun jang chang lim im han oh
    seo shin kwon hwang ahn an song yoo yu hong jeon moon yang son bae baek heo nam noh ha kwak
    sung cha joo woo min ryu jin
    """
)
JA_FAMILY = _set(
    """
    sato satou suzuki takahashi tanaka ito itou watanabe yamamoto nakamura kobayashi kato katou
    yoshida yamada sasaki yamaguchi matsumoto inoue kimura hayashi shimizu yamazaki mori abe
    ikeda hashimoto yamashita ishikawa nakajima maeda fujita ogawa goto okada hasegawa murakami
    kondo ishii saito sakamoto endo aoki fujii nishimura fukuda ota miura fujiwara okamoto
    matsuda nakagawa nakano harada ono tamura takeuchi kaneko wada nakayama ishida ueda morita
    hara shibata sakai kudo yokoyama miyazaki miyamoto uchida takagi ando taniguchi ohno
    maruyama imai takada fujimoto takeda murata ueno sugiyama masuda sugawara hirano kojima
    otsuka chiba kubo matsui iwasaki sakurai kinoshita noguchi matsuo kikuchi nomura arai honda
    """
)
EAST_ASIAN_FAMILY = VI_FAMILY | ZH_FAMILY | KO_FAMILY | JA_FAMILY

# Chinese two-character family names (unspaced Han names split after them).
ZH_COMPOUND_FAMILY = _set(
    """
    欧阳 歐陽 司马 司馬 诸葛 諸葛 上官 东方 東方 皇甫 尉迟 尉遲 公孙 公孫 慕容 长孙
    長孫 宇文 司徒 夏侯 轩辕 軒轅 令狐 钟离 鍾離 端木 西门 西門 南宫 南宮 独孤 獨孤
    澹台 澹臺 申屠 太史 百里 呼延
    """
)
KO_COMPOUND_FAMILY = _set("남궁 황보 제갈 선우 독고 사공 서문 동방 어금 망절")
# Common Japanese family names in kanji (unspaced kanji names split after them).
JA_KANJI_FAMILY = _set(
    """
    佐藤 鈴木 高橋 田中 斉藤 齊藤 伊藤 渡辺 渡邊 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本
    井上 木村 林 清水 山崎 森 阿部 池田 橋本 山下 石川 中島 前田 藤田 小川 後藤
    岡田 長谷川 村上 近藤 石井 斎藤 齋藤 坂本 遠藤 青木 藤井 西村 福田 太田 三浦 藤原
    岡本 松田 中川 中野 原田 小野 田村 竹内 金子 和田 中山 石田 上田 森田 原 柴田
    酒井 工藤 横山 宮崎 宮本 内田 高木 安藤 谷口 大野 丸山 今井 高田 藤本 武田 村田
    上野 杉山 増田 菅原 平野 小島 大塚 千葉 久保 松井 岩崎 桜井 木下 野口 松尾 菊地
    野村 新井 本田
    """
)

# Russian, Ukrainian, Bulgarian patronymics and family-name endings (Cyrillic and Latin).
PATRONYMIC_ENDINGS = tuple(_set("ович евич ьич овна евна ична инична ovich evich ovna evna"))
SLAVIC_FAMILY_ENDINGS = tuple(
    _set(
        """
        ов ова ев ева ёв ёва ин ина ын ына ский ская цкий цкая енко ук юк
        ov ova ev eva sky skiy skaya ski ska enko
        """
    )
)

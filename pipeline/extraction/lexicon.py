"""Gazetteers and trigger lexicons for strike extraction (hand-curated).

The small spaCy model tags militia names as PERSON and misses weapons entirely, so the
pipeline adds an EntityRuler built from these tables: ARMED_ACTOR, PLATFORM, MUNITION.
Each actor entry: aliases, canonical name, type, home country (ISO2), sponsor country.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- actors

# (aliases, canonical, type, country, sponsor)
ACTORS: list[tuple[tuple[str, ...], str, str, str | None, str | None]] = [
    (("Kataib Hezbollah", "Kata'ib Hezbollah", "Kataib Hizballah", "Kata'ib Hizballah", "KH"), "Kataib Hezbollah", "militia_proxy", "IQ", "IR"),
    (("Kataib Sayyid al-Shuhada", "Kata'ib Sayyid al-Shuhada", "Kataib Sayyid al Shuhada", "KSS"), "Kataib Sayyid al-Shuhada", "militia_proxy", "IQ", "IR"),
    (("Asaib Ahl al-Haq", "Asa'ib Ahl al-Haq"), "Asaib Ahl al-Haq", "militia_proxy", "IQ", "IR"),
    (("Popular Mobilization Forces", "Popular Mobilisation Forces", "PMF", "Hashd al-Shaabi"), "Popular Mobilization Forces", "militia_proxy", "IQ", "IR"),
    (("Hezbollah", "Hizballah", "Hizbollah"), "Hezbollah", "militia_proxy", "LB", "IR"),
    (("Houthis", "Houthi", "Houthi forces", "Houthi rebels", "pro-Houthi forces", "Ansar Allah", "Ansarallah", "Supreme Political Council"), "Houthis", "rebel", "YE", "IR"),
    (("Quds Force", "IRGC", "Islamic Revolutionary Guard Corps", "Revolutionary Guards"), "IRGC", "state_military", "IR", None),
    (("Taliban",), "Taliban", "rebel", "AF", None),
    (("Islamic State", "ISIS", "ISIL", "IS", "Daesh", "IS militants", "ISKP", "IS-K", "Islamic State Khorasan", "ISWAP", "Islamic State West Africa", "Islamic State (Greater Sahara)", "ISGS"), "Islamic State", "terrorist", None, None),
    (("al-Shabaab", "Al Shabaab", "al Shabaab", "Al-Shabab", "al-Shabab"), "Al Shabaab", "terrorist", "SO", None),
    (("JNIM", "Jama'at Nasr al-Islam wal Muslimin", "Group for Support of Islam and Muslims", "Katiba Macina", "Ansaroul Islam"), "JNIM", "terrorist", "ML", None),
    (("AQIM", "al-Qaeda in the Islamic Maghreb"), "AQIM", "terrorist", None, None),
    (("al-Qaeda", "Al Qaeda", "al Qaeda", "AQAP"), "al-Qaeda", "terrorist", None, None),
    (("Boko Haram",), "Boko Haram", "terrorist", "NG", None),
    (("PKK", "Kurdistan Workers' Party", "Kurdistan Workers Party"), "PKK", "rebel", "TR", None),
    (("YPG", "SDF", "Syrian Democratic Forces", "People's Protection Units"), "SDF", "rebel", "SY", "US"),
    (("Hamas", "Qassam Brigades", "Izz ad-Din al-Qassam Brigades"), "Hamas", "militia_proxy", "PS", "IR"),
    (("Palestinian Islamic Jihad", "Islamic Jihad", "PIJ", "Al-Quds Brigades"), "Palestinian Islamic Jihad", "militia_proxy", "PS", "IR"),
    (("HTS", "Hayat Tahrir al-Sham", "Hayat Tahrir al Sham", "Tahrir al-Sham"), "HTS", "rebel", "SY", None),
    (("NAF", "DPR", "LPR", "Novorossiya", "United Armed Forces of Novorossiya", "separatists", "pro-Russian separatists", "NAF rebel forces"), "NAF", "rebel", "UA", "RU"),
    (("LNA", "Libyan National Army", "Haftar forces", "Haftar's forces", "LAAF", "Haftar"), "LNA", "state_military", "LY", None),
    (("GNA", "Government of National Accord", "GNA forces", "GNA-affiliated forces"), "GNA", "state_military", "LY", None),
    (("Saudi-led coalition", "Saudi-led Coalition", "coalition warplanes", "Operation Restoring Hope", "Arab coalition"), "Saudi-led coalition", "state_military", "SA", None),
    (("pro-Hadi forces", "Hadi forces", "joint forces", "National Resistance Forces", "Southern Resistance", "Southern Transitional Council"), "Pro-Hadi forces", "state_military", "YE", None),
    (("Wagner", "Wagner Group"), "Wagner Group", "militia_proxy", "RU", "RU"),
    (("al-Nusra", "Nusra Front", "Jabhat al-Nusra"), "HTS", "rebel", "SY", None),
    (("Syrian National Army", "SNA", "Turkish-backed factions", "Turkish-backed rebels"), "Syrian National Army", "militia_proxy", "SY", "TR"),
    (("M23",), "M23", "rebel", "CD", None),
    (("ADF", "Allied Democratic Forces"), "ADF", "rebel", "CD", None),
    (("Arakan Army",), "Arakan Army", "rebel", "MM", None),
    (("Tatmadaw",), "Military of Myanmar", "state_military", "MM", None),
    (("NATO",), "NATO", "state_military", None, None),
    (("OSCE SMM",), "OSCE SMM", "unknown", "UA", None),
    (("Pentagon", "Department of Defense", "US military", "U.S. military", "US Air Force", "U.S. Air Force", "CENTCOM", "US Central Command", "AFRICOM", "US forces", "U.S. forces", "American forces", "US troops", "U.S. troops"), "United States", "state_military", "US", None),
    (("IDF", "Israel Defense Forces", "Israeli military", "Israeli army", "Israeli air force"), "Israel", "state_military", "IL", None),
    (("regime forces", "Syrian regime", "Syrian government forces", "Assad forces", "Syrian army", "SAA"), "Syria", "state_military", "SY", None),
    (("Burkinabe air force", "Burkinabe army", "FDS", "Defence and Security Forces", "VDP", "Volunteers for the Defense of the Homeland"), "Burkina Faso", "state_military", "BF", None),
    (("Barkhane", "Operation Barkhane"), "France", "state_military", "FR", None),
    (("Operation Peace Spring",), "Turkey", "state_military", "TR", None),
    (("AMISOM",), "AMISOM", "state_military", "SO", None),
]

# Where an actor fights, when that is not its home country: pins the country of a
# village the gazetteer does not know ("Saudi-led coalition airstrikes targeted X").
THEATRE = {"Saudi-led coalition": "YE", "Houthis": "YE", "Pro-Hadi forces": "YE", "NAF": "UA", "OSCE SMM": "UA", "LNA": "LY", "GNA": "LY",
           "Syrian National Army": "SY", "HTS": "SY", "SDF": "SY", "Taliban": "AF", "JNIM": "BF", "Al Shabaab": "SO", "Boko Haram": "NG", "Hamas": "PS"}

# Demonym or country + a military noun = that state's military ("Israeli warplanes",
# "Turkish forces", "Russian jets", "Israeli air strikes"). The forces word list is used in the ruler pattern.
FORCE_NOUNS = (
    "forces", "force", "military", "army", "troops", "soldiers", "air force", "airforce", "navy", "warplanes", "warplane", "jets", "jet",
    "aircraft", "drones", "drone", "fighter jets", "fighter-bombers", "helicopters", "artillery", "military forces", "security forces",
    "government forces", "defence forces", "defense forces", "gunboats", "planes",
    # The strike itself: "Israeli air strikes hit ...", "Russian airstrikes on Idlib",
    # "Turkish shelling of ...": the adjective names the state that struck.
    "strikes", "strike", "airstrikes", "airstrike", "raids", "raid", "shelling", "bombardment", "bombing", "bombings",
)
COALITION = {"coalition", "Saudi-led coalition"}

# --------------------------------------------------------------------------- weapons

# (aliases, canonical, category, kind)
PLATFORMS: list[tuple[tuple[str, ...], str, str]] = [
    (("F-15E", "F-15Es", "F-15E Strike Eagle", "F-15E Strike Eagles"), "F-15E", "fighter"),
    (("F-15", "F-15s"), "F-15", "fighter"),
    (("F-16", "F-16s"), "F-16", "fighter"),
    (("F-35", "F-35s", "F-35A", "F-35I"), "F-35", "fighter"),
    (("F/A-18", "F/A-18s", "F-18", "F-18s"), "F/A-18", "fighter"),
    (("A-10", "A-10s"), "A-10", "attack_aircraft"),
    (("B-52", "B-52s"), "B-52", "bomber"),
    (("B-1", "B-1B", "B-1s"), "B-1B", "bomber"),
    (("Su-24", "Su-25", "Su-34", "Su-35", "Sukhoi"), "Sukhoi", "fighter"),
    (("MiG-29", "MiG-23", "MiG-21", "MiG"), "MiG", "fighter"),
    (("Mirage", "Mirage 2000", "Rafale"), "Mirage/Rafale", "fighter"),
    (("MQ-9", "MQ-9 Reaper", "Reaper", "Reaper drone", "MQ-9s"), "MQ-9 Reaper", "uav"),
    (("MQ-1", "Predator", "Predator drone"), "MQ-1 Predator", "uav"),
    (("Bayraktar", "Bayraktar TB2", "TB2"), "Bayraktar TB2", "uav"),
    (("Shahed-136", "Shahed", "Shahed drones", "Geran-2"), "Shahed-136", "one_way_attack_drone"),
    (("Wing Loong",), "Wing Loong", "uav"),
    (("Apache", "AH-64", "Apache helicopter", "Apache helicopters"), "AH-64 Apache", "helicopter"),
    (("fighter-bombers", "fighter-bomber"), "fighter-bomber", "fighter"),
    (("fighter jets", "fighter jet"), "fighter jet", "fighter"),
    (("warplanes", "warplane", "war planes", "jets", "military aircraft", "aircraft", "planes"), "warplane", "aircraft"),
    (("helicopter", "helicopters", "gunship", "gunships", "helicopter gunships"), "helicopter", "helicopter"),
    (("drone", "drones", "UAV", "UAVs", "unmanned aerial vehicle", "unmanned aerial vehicles", "armed drones", "small drones", "loitering munition", "kamikaze drone", "kamikaze drones"), "drone", "uav"),
]

MUNITION_RE = re.compile(
    r"(?P<count>\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|multiple)\s+)?"
    r"(?P<weight>\b\d{1,2},?\d{3}|\b\d{3})[-\s]?(?:pound|lb)s?\s+"
    r"(?P<desc>(?:(?:satellite|laser|GPS|precision)[-\s]guided\s+|guided\s+|precision\s+)?)"
    r"(?P<noun>bombs?|munitions?|missiles?|JDAMs?)",
    re.I,
)
MUNITION_NAMES: list[tuple[tuple[str, ...], str, str]] = [
    (("JDAM", "JDAMs", "Joint Direct Attack Munition"), "JDAM", "bomb"),
    (("Hellfire", "Hellfire missile", "Hellfire missiles"), "Hellfire missile", "missile"),
    (("cruise missile", "cruise missiles", "Tomahawk", "Tomahawks", "Kalibr"), "cruise missile", "missile"),
    (("ballistic missile", "ballistic missiles", "Iskander"), "ballistic missile", "missile"),
    (("Grad", "Grad rockets", "Katyusha", "Katyusha rockets", "BM-21", "MLRS", "rocket launcher", "rocket launchers"), "multiple rocket launcher", "rocket"),
    (("rockets", "rocket", "rocket fire"), "rocket", "rocket"),
    (("missile", "missiles", "guided missiles", "anti-tank missile", "ATGM"), "missile", "missile"),
    (("mortar", "mortars", "mortar shells", "mortar rounds", "82mm mortars", "120mm mortars", "60mm mortars"), "mortar", "artillery"),
    (("artillery", "artillery shells", "howitzer", "howitzers", "tank fire", "heavy artillery"), "artillery", "artillery"),
    (("RPG", "RPGs", "rocket-propelled grenade", "grenade launchers", "grenade launcher"), "RPG", "rocket"),
    (("barrel bomb", "barrel bombs"), "barrel bomb", "bomb"),
    (("bombs", "bomb"), "bomb", "bomb"),
]

# --------------------------------------------------------------------------- triggers

# Each strike type: regexes over a sentence. Order matters only for ties.
TRIGGERS: dict[str, list[str]] = {
    "drone_strike": [
        r"\bdrone (?:strikes?|attacks?|raids?)\b", r"\b(?:attack|suicide|kamikaze|explosive-laden|bomb-laden|one-way)[- ]drones?\b",
        r"\bdrones? (?:struck|hit|targeted|attacked|bombed|dropped)\b", r"\bUAV (?:strikes?|attacks?)\b", r"\bloitering munitions?\b",
        r"\b(?:strikes?|attacks?|raids?) (?:by|from|using|with) (?:an? )?(?:armed )?(?:drones?|UAVs?|unmanned)\b",
        r"\bdrones? loaded with explosives\b", r"\bused (?:small )?drones\b", r"\bdrones (?:that )?dive and crash\b",
        r"\b(?:MQ-9|Reaper|Bayraktar|Shahed)\b",
    ],
    "air_strike": [
        r"\bair ?strikes?\b", r"\bair-strikes?\b", r"\bair raids?\b", r"\baerial (?:bombardment|bombing|attacks?|strikes?)\b",
        r"\b(?:warplanes?|jets?|fighter jets?|fighter-bombers?|aircraft|helicopters?|gunships?|planes|bombers?|F-\d+\w*|Su-\d+|MiG)\b[^.;]{0,60}?\b(?:struck|strike|bombed|bomb|hit|targeted|raided|pounded|attacked|dropped|carried out|conducted|fired)\b",
        r"\b(?:struck|bombed|hit|targeted) by (?:\w+ )?(?:warplanes?|jets?|aircraft|helicopters?)\b",
        r"\bbombing (?:raids?|runs?)\b", r"\bbombed\b", r"\b(?:precision|retaliatory|defensive) strikes?\b",
        r"\bstrikes? (?:on|against) (?:the )?(?:three |two |several )?(?:targets?|sites?|facilities|positions|militia)\b",
        r"\b(?:air ?force|air ?crafts?|warplanes?|jets|helicopters?)\s+(?:reportedly\s+)?(?:targeted|struck|bombed|conducted|carried out|launched|raided|hit|pounded)\b",
    ],
    "missile_attack": [
        r"\b(?:ballistic|cruise|guided|surface-to-surface|anti-tank) missiles?\b", r"\bmissile (?:strikes?|attacks?)\b",
        r"\brocket (?:attacks?|fire|strikes?)\b", r"\b(?:fired|launched|lobbed) (?:\w+ ){0,3}(?:rockets?|missiles?|Katyushas?|Grads?)\b",
        r"\brockets? (?:hit|struck|landed|fell|targeted)\b", r"\b(?:rockets?|missiles?) (?:were )?(?:fired|launched)\b", r"\bRPGs?\b",
    ],
    "shelling": [
        r"\bshell(?:ed|ing|s)?\b", r"\bartillery\b", r"\bmortars?\b", r"\bhowitzers?\b", r"\bbombard(?:ed|ment)\b",
        r"\b(?:explosions?|projectiles?|bursts of fire)(?:/[\w ]+?)* involving\b", r"\b(?:recorded|observed|heard) (?:a total of )?\d+ explosions?\b", r"\bmissile and artillery\b",
        r"\bfired (?:[\w/.,-]+ ){0,8}?(?:grenade launchers?|anti-aircraft guns?|heavy machine ?guns|machineguns|mortars?|artillery|rockets?|howitzers?|shells)\b",
        r"\btank (?:fire|shells?)\b", r"\bheavy weapons? fire\b", r"\bindirect fire\b",
    ],
}
# A reference to strikes already reported ("the strikes", "Monday's strike"): merges
# into the article's last strike, never starts an event on its own.
WEAK_STRIKE_RE = re.compile(r"\b(?:the|these|those|latest|recent|[A-Z][a-z]+day's|new|U\.?S\.?|American)\s+(?:air\s?)?strikes?\b|\bstrike of the (?:three|two) targets\b", re.I)
TRIGGER_RES = {k: [re.compile(p, re.I) for p in v] for k, v in TRIGGERS.items()}

# Violent events that are not strikes: recognised so they are not mistaken for one.
OTHER_VIOLENCE = re.compile(
    r"\b(?:clash(?:es|ed)?|gunfight|fire ?fight|ambush(?:ed)?|gunmen|armed men|shot dead|opened fire|IED|improvised explosive|landmine|"
    r"roadside bomb|suicide (?:bomb(?:er|ing)?|attack)|car bomb|VBIED|abduct(?:ed|ion)|kidnapp(?:ed|ing)|stabb(?:ed|ing)|beat(?:en)?|"
    r"attacked (?:a |the )?(?:village|civilians)|killed (?:a |an )?(?:civilian|man|woman))\b",
    re.I,
)
# An exchange of fire is a clash (ACLED "Armed clash"), even with artillery in it:
# shelling/missile triggers in such a text are not a strike. Air strikes stay strikes.
CLASH_RE = re.compile(
    r"\b(?:clash(?:es|ed)?|exchanged (?:fire|artillery|shelling|heavy)|exchange of fire|responded to the fire|returned fire|in both directions|"
    r"small arms|fighting (?:between|with)|battles?|gunfight|firefight)\b",
    re.I,
)
TEAR_GAS_RE = re.compile(r"\btear ?gas\b", re.I)
# Words that turn a shelling/missile trigger into something else in ACLED's sense.
IED_RE = re.compile(r"\b(?:IED|improvised explosive device|landmine|roadside bomb|explosive device|mine)\b", re.I)
GRENADE_RE = re.compile(r"\b(?:hand grenades?|grenade attack|threw a grenade)\b", re.I)

NEGATION_RE = re.compile(r"\b(?:no|not|never|without|denied|den(?:y|ies)|refuted|rejected claims|did not|didn't|has not|have not|hasn't|haven't)\b", re.I)
DENIAL_RE = re.compile(r"\b(?:denied|den(?:y|ies)|rejected (?:the )?(?:claims?|reports?)|refuted)\b", re.I)
THREAT_RE = re.compile(r"\b(?:threat(?:en(?:ed|s)?)?|warn(?:ed|s)?(?: of)?|vow(?:ed|s)? to|pledg(?:ed|es) to|would retaliate)\b", re.I)
HYPOTHETICAL_RE = re.compile(r"\b(?:if|would|could|might|may|plan(?:s|ned)? to|consider(?:ing|ed)?|options?|will|unlikely|possible|potential)\b", re.I)
HISTORICAL_RE = re.compile(r"\b(?:previous|earlier|last year|in (?:19|20)\d{2}|former|had taken place|had carried out|the (?:first|second) time|in the past|since \d{4})\b", re.I)

# De-escalation language, recorded on events for the escalation score.
DE_ESCALATION_RE = re.compile(
    r"\b(?:defensive|calibrated|proportionate|measured response|limit the risk of escalation|avoid (?:further )?escalat(?:ion|ing)|de-?escalat(?:e|ion)|"
    r"avoid provoking|restraint|ceasefire|truce|deterrent message|self-defen[cs]e)\b",
    re.I,
)

# Casualties.
NUM_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
             "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "twenty": 20, "dozens": 24, "dozen": 12, "several": 3, "scores": 40}
_N = r"(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty|several|dozens|a dozen|scores)"
_WHO = r"(?:(?:\w+[- ]?){0,4}?)"
KILLED_RES = [
    re.compile(r"\b(?:killing|killed|kills|left|leaving)\s+(?:at least\s+|more than\s+|about\s+|around\s+|some\s+)?" + _N + r"\b(?!\s*(?:km|kilometers|miles|times|days))", re.I),
    re.compile(r"\b(?:at least\s+|more than\s+|about\s+|around\s+)?" + _N + r"\s+" + _WHO + r"(?:were |was |have been |had been )?(?:killed|dead|died|deaths|fatalities|casualties \(killed\))\b", re.I),
    re.compile(r"\b" + _N + r"\s+fatalit(?:y|ies)\b", re.I),
]
INJURED_RES = [
    re.compile(r"\b(?:injuring|wounding|injured|wounded)\s+(?:at least\s+|more than\s+|about\s+)?" + _N + r"\b", re.I),
    re.compile(r"\b(?:at least\s+|more than\s+|about\s+)?" + _N + r"\s+" + _WHO + r"(?:were |was |have been )?(?:injured|wounded|hurt)\b", re.I),
]
NO_CASUALTIES_RE = re.compile(
    r"\b(?:no (?:immediate )?reports? of (?:casualties|fatalities|injuries|deaths)|no (?:casualties|fatalities|injuries|deaths)(?: or (?:injuries|fatalities|casualties))? (?:were |was )?(?:reported|recorded)|"
    r"neither (?:injuries|fatalities|casualties) nor (?:fatalities|injuries|casualties)|no (?:one|body) was (?:killed|hurt|injured)|no casualties|without casualties|"
    r"no information on (?:casualties|fatalities)|no reports? of (?:fatalities|injuries|casualties)|no Americans have been (?:injured|killed)|no (?:fatalities|casualties) reported)\b",
    re.I,
)
NO_IMMEDIATE_RE = re.compile(r"\bno immediate reports? of (?:casualties|injuries|deaths|fatalities)\b", re.I)
SPLIT_RE = re.compile(r"fatalities (?:were )?split (?:up )?(?:between|among|across) \(?(?P<k>\d+)\)? events", re.I)

ATTRIBUTION_RE = re.compile(
    r"\b(?P<src>(?:the )?(?:Pentagon|Department of Defense|Defense Department|Ministry of Defen[cs]e|White House|State Department|"
    r"(?:U\.?S\.?|American|Iraqi|Syrian|Israeli|Russian|Ukrainian|Turkish|Iranian|Saudi|Houthi|military|Pentagon|administration|security|local|government) (?:officials?|sources?|spokes(?:person|man|woman)|military|media)|"
    r"officials|a spokes(?:person|man|woman)|the spokes(?:person|man|woman)|(?:Mr\.?|Ms\.?|Gen\.?|General|Secretary) [A-Z][\w.]+(?: [A-Z][\w.]+)*|[A-Z][a-z]+ [A-Z]\. [A-Z][a-z]+|John F\. Kirby|Kirby|SOHR|Syrian Observatory for Human Rights|OSCE SMM|the source))\s+"
    r"(?:said|says|stated|reported|claimed|announced|confirmed|told|added)\b",
)
CLAIM_RE = re.compile(r"\b(?:claimed (?:responsibility|the attack)|took responsibility)\b", re.I)

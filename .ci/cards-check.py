#!/usr/bin/env python3
"""Reads the character cards `rostro characters download` wrote with readers we did not
write: Pillow (PNG decoding, tEXt/zTXt/iTXt into `im.text`), aichar (a card loader used with
TavernAI/SillyTavern cards), and Python's zipfile/base64/json; checks them against the
published specs (Character Card V2, V3, CharX) and against the API's own view of the
character.

usage: cards-check.py DIR    (DIR holds project.json, card-v2.png, card-v3.png, card-v2.json,
                             card-v3.json, card-v3.charx and world.json)
"""
import base64
import io
import json
import sys
import zipfile

import aichar
from PIL import Image

STR_FIELDS = [
    "name", "description", "personality", "scenario", "first_mes", "mes_example",
    "creator_notes", "system_prompt", "post_history_instructions", "creator", "character_version",
]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def check_book(book, where):
    check(isinstance(book, dict), f"{where}: character_book is an object")
    check(isinstance(book.get("extensions"), dict), f"{where}: book extensions is an object")
    entries = book.get("entries")
    check(isinstance(entries, list) and entries, f"{where}: book has entries")
    for i, e in enumerate(entries or []):
        w = f"{where}: entry {i}"
        check(isinstance(e.get("keys"), list) and all(isinstance(k, str) for k in e["keys"]), f"{w}: keys is a list of strings")
        check(isinstance(e.get("content"), str), f"{w}: content is a string")
        check(isinstance(e.get("extensions"), dict), f"{w}: extensions is an object")
        check(isinstance(e.get("enabled"), bool), f"{w}: enabled is a boolean")
        check(isinstance(e.get("insertion_order"), (int, float)), f"{w}: insertion_order is a number")
        if "position" in e:
            check(e["position"] in ("before_char", "after_char"), f"{w}: position is before_char|after_char")
        if "use_regex" in e:
            check(isinstance(e["use_regex"], bool), f"{w}: use_regex is a boolean")
    return entries or []


def check_card(card, version, where):
    spec, spec_version = ("chara_card_v3", "3.0") if version == 3 else ("chara_card_v2", "2.0")
    check(card.get("spec") == spec, f"{where}: spec is {spec}")
    check(card.get("spec_version") == spec_version, f"{where}: spec_version is {spec_version}")
    data = card.get("data")
    check(isinstance(data, dict), f"{where}: data is an object")
    data = data or {}
    for k in STR_FIELDS:
        check(isinstance(data.get(k), str), f"{where}: data.{k} is a string")
    for k in ("alternate_greetings", "tags"):
        check(isinstance(data.get(k), list) and all(isinstance(x, str) for x in data[k]), f"{where}: data.{k} is a list of strings")
    check(isinstance(data.get("extensions"), dict), f"{where}: data.extensions is an object")
    if version == 3:
        check(isinstance(data.get("group_only_greetings"), list), f"{where}: data.group_only_greetings is a list")
        for k in ("creation_date", "modification_date"):
            if k in data:
                check(isinstance(data[k], int), f"{where}: data.{k} is an integer")
        for a in data.get("assets") or []:
            check(all(isinstance(a.get(k), str) for k in ("type", "uri", "name", "ext")), f"{where}: asset {a} has type/uri/name/ext")
    entries = check_book(data.get("character_book"), where) if "character_book" in data else []
    return data, entries


def against_api(data, node, where):
    d = node.get("definition", {})
    pairs = [
        ("name", d.get("name")), ("description", d.get("description")),
        ("personality", d.get("personality")), ("scenario", d.get("scenario")),
        ("first_mes", d.get("first_message")), ("mes_example", d.get("example_dialogs")),
        ("system_prompt", d.get("system_prompt")),
        ("post_history_instructions", d.get("post_history_instructions")),
        ("creator_notes", d.get("creator_notes")), ("alternate_greetings", d.get("alternate_greetings")),
        ("tags", node.get("topics")), ("creator", node.get("creator")),
    ]
    for card_key, api_value in pairs:
        check(data.get(card_key) == api_value, f"{where}: data.{card_key} == the API's ({data.get(card_key)!r} vs {api_value!r})")


def png_card(path, version):
    raw = open(path, "rb").read()
    im = Image.open(io.BytesIO(raw))
    im.load()  # decodes every pixel: a damaged IDAT or CRC fails here
    Image.open(io.BytesIO(raw)).verify()
    text = im.text
    check("chara" in text, f"{path}: has a chara chunk")
    if version == 3:
        check("ccv3" in text, f"{path}: has a ccv3 chunk")
    cards = {k: json.loads(base64.b64decode(text[k])) for k in ("chara", "ccv3") if k in text}
    # The V2 payload, for the npm validator (.ci/cards-check.mjs).
    if "chara" in cards:
        with open(f"{path}.chara.json", "w", encoding="utf-8") as f:
            json.dump(cards["chara"], f, ensure_ascii=False)
    # aichar reads the chara chunk the way TavernAI-era tools do.
    c = aichar.load_character_card_file(str(path))
    v2 = cards.get("chara", {}).get("data", {})
    for attr, key in (("name", "name"), ("summary", "description"), ("personality", "personality"),
                      ("scenario", "scenario"), ("greeting_message", "first_mes"), ("example_messages", "mes_example")):
        check(getattr(c, attr) == v2.get(key), f"{path}: aichar {attr} == data.{key} ({getattr(c, attr)!r})")
    return cards, im.size


def main(d):
    project = json.load(open(f"{d}/project.json"))
    node = project.get("node", project)
    books = {}

    for version in (2, 3):
        path = f"{d}/card-v{version}.png"
        cards, size = png_card(path, version)
        data, entries = check_card(cards["ccv3" if version == 3 else "chara"], version, path)
        against_api(data, node, path)
        books[path] = entries
        if version == 3:
            # The chara chunk of a V3 PNG is the same card in V2 form, for older readers.
            v2data, _ = check_card(cards["chara"], 2, f"{path} (chara)")
            for k in STR_FIELDS:
                check(v2data.get(k) == data.get(k), f"{path}: chara and ccv3 agree on {k}")

        jpath = f"{d}/card-v{version}.json"
        card = json.load(open(jpath))
        jdata, jentries = check_card(card, version, jpath)
        against_api(jdata, node, jpath)
        books[jpath] = jentries

    xpath = f"{d}/card-v3.charx"
    with zipfile.ZipFile(xpath) as z:
        check(z.testzip() is None, f"{xpath}: every member's CRC is right")
        names = z.namelist()
        check("card.json" in names, f"{xpath}: has card.json")
        card = json.loads(z.read("card.json"))
        xdata, xentries = check_card(card, 3, xpath)
        against_api(xdata, node, xpath)
        books[xpath] = xentries
        icons = [a for a in xdata.get("assets") or [] if a["type"] == "icon" and a["name"] == "main"]
        check(len(icons) == 1, f"{xpath}: one main icon asset")
        for a in icons:
            check(a["uri"].startswith("embeded://"), f"{xpath}: the icon is embedded")
            member = a["uri"][len("embeded://"):]
            check(member in names, f"{xpath}: {member} is in the zip")
            if member in names:
                icon = Image.open(io.BytesIO(z.read(member)))
                icon.load()
                check(icon.format.lower() == a["ext"].lower(), f"{xpath}: icon is a {a['ext']}")

    first = next(iter(books.values()))
    for where, entries in books.items():
        check(entries == first, f"{where}: the same lorebook entries as the other files")

    wi = json.load(open(f"{d}/world.json"))
    entries = wi.get("entries")
    check(isinstance(entries, dict) and entries, "world.json: entries is a non-empty object")
    for uid, e in (entries or {}).items():
        check(str(e.get("uid")) == uid, f"world.json: entry {uid} has uid {uid}")
        check(isinstance(e.get("key"), list) and isinstance(e.get("content"), str), f"world.json: entry {uid} has key[] and content")
        check(isinstance(e.get("order"), (int, float)) and isinstance(e.get("disable"), bool), f"world.json: entry {uid} has order and disable")
    check_book(wi.get("originalData"), "world.json originalData")

    if failures:
        print(f"cards-check: {len(failures)} problem(s):")
        for f in failures:
            print("  -", f)
        sys.exit(1)
    print(f"cards-check: {len(books)} card files and world.json read by Pillow {Image.__version__}, "
          f"aichar and zipfile; {len(first)} lorebook entries; all agree with the API")


if __name__ == "__main__":
    main(sys.argv[1])

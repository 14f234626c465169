"""Adversarial strings for the tokenizer differential test, generated from a fixed seed.

texts(seed, n): str inputs mixing CJK, emoji (ZWJ, skin tones, flags, keycaps), combining marks,
RTL, Thai and other scripts, control characters, whitespace runs, digit runs, mixed-case
contractions, special-token texts and very long words. special_texts(specials, seed, n): strings
built around one vocabulary's added-token texts. invalid_utf8(seed, n): bytes that are not valid
UTF-8 (lone continuation bytes, truncated sequences, overlongs, surrogates, 0xF5..0xFF).
"""
import random

CJK = "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从日本語の文字カタカナひらがな한국어텍스트"
CJK_EXT = "𠀋𠀍𪚥𠮷𡈽𤭢𩸽𠀀𫝀𬺰"
EMOJI = ["🙂", "😀", "🎉", "👍", "👍🏽", "👍🏿", "❤️", "❤", "☺️", "✈️", "🇺🇸", "🇯🇵", "🇫🇷", "🏳️‍🌈", "🏴‍☠️",
         "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏽‍🚀", "👁️‍🗨️", "1️⃣", "#️⃣", "*️⃣", "🫠", "🦀", "🐍", "🧪",
         "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🤷‍♀️", "🙋🏻‍♂️", "💯", "🔥"]
COMBINING = ["\u0301", "\u0300", "\u0308", "\u0302", "\u0323", "\u0327", "\u0328", "\u030c", "\u0334",
             "\u0336", "\u20dd", "\u0345", "\u05b0", "\u0651", "\u093c", "\u0e31", "\u3099", "\u302a"]
BASES = "aeiouAEIOUnNcCsSzZ"
RTL = ["עברית", "שָׁלוֹם", "العربية", "مَرْحَبًا", "فارسی", "اردو", "\u200f", "\u200e", "\u202b", "\u202c",
       "\u202e", "\u2067", "\u2069", "١٢٣٤", "۱۲۳", "ﷺ", "ﻻ"]
SCRIPTS = ["ไทยภาษาไทย", "สวัสดีครับ", "ภาษา", "हिन्दी", "नमस्ते", "தமிழ்", "ქართული", "Հայերեն", "አማርኛ",
           "ᚠᛇᚻ", "Ελληνικά", "Русский", "Tiếng Việt", "ꙮ", "ខ្មែរ", "ລາວ", "မြန်မာ", "ᏣᎳᎩ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
           "𝐁𝐨𝐥𝐝", "Ｆｕｌｌｗｉｄｔｈ", "ﬁﬂ", "Ⅻ", "½", "²³", "ℌℍ", "㎏", "①②"]
CONTROL = [chr(c) for c in list(range(0, 32)) + [127]] + [chr(c) for c in range(0x80, 0xa0)] + [
    "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufff9", "\ufffe", "\uffff", "\U000e0001",
    "\ue000", "\U000f0000", "\U0010fffd", "\u0378", "\U0001ffff", "\ufffd"]
SPACES = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n", "\n ",
          " \t ", "\u00a0", "\u2009", "\u3000", "\u2028", "\u2029", "\u0085", "\u000b", "\u000c",
          "\u1680", "\u2000", "\u200a", "\u202f", "\u205f"]
WORDS = ["the", "The", "THE", "hello", "Hello", "world", "tokenizer", "naïve", "café", "Straße", "résumé",
         "don't", "DON'T", "Don'T", "it's", "IT'S", "It'S", "we've", "WE'VE", "We'Ve", "they'll", "THEY'LL",
         "I'm", "I'M", "you'd", "YOU'D", "she'S", "He'D", "O'Neil", "rock'n'roll", "it’s", "it‘s",
         "'s", "'S", "'t", "'T", "'re", "'RE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D", "'",
         "''", "'''", "`", "foo_bar", "fooBar", "FooBar", "x86_64", "C++", "std::vector<int>", "a.b.c",
         "http://x.y/z?q=1&r=2", "a@b.co", "#tag", "@user", "$100", "100%", "3.14", "1e-9", "0xDEADBEEF",
         "...", "!!!", "?!", "—", "–", "«»", "“quoted”", "(x)", "[y]", "{z}", "<tag>", "</tag>", "=>", "->"]
SPECIALS = ["<s>", "</s>", "<unk>", "<pad>", "<|endoftext|>", "<|im_start|>", "<|im_end|>",
            "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
            "<|reserved_special_token_0|>", "<|reserved_special_token_250|>", "<|finetune_right_pad_id|>",
            "<think>", "</think>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
            "<|fim_suffix|>", "<|vision_start|>", "<|box_start|>", "<repo_name>", "<file_sep>", "<|python_tag|>",
            "<|im_start", "im_end|>", "<|", "|>", "<<|im_end|>>", "< s>", "<s >", "<S>", "</S>", "<|IM_START|>"]
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _digits(rng):
    n = rng.choice([1, 2, 3, 4, 5, 7, 10, 16, 33, 64, 100, 257])
    s = "".join(rng.choice("0123456789") for _ in range(n))
    if rng.random() < 0.3:
        s = ",".join(s[i:i + 3] for i in range(0, len(s), 3))
    if rng.random() < 0.2:
        s = s.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩" if rng.random() < 0.5 else "０１２３４５６７８９"))
    return s


def _combining(rng):
    out = []
    for _ in range(rng.randint(1, 6)):
        out.append(rng.choice(BASES))
        out.extend(rng.choice(COMBINING) for _ in range(rng.choice([0, 1, 1, 2, 3, 8])))
    if rng.random() < 0.2:
        out.insert(0, rng.choice(COMBINING))  # a mark with no base
    return "".join(out)


def _long_word(rng):
    kind = rng.randrange(6)
    n = rng.choice([100, 300, 1000, 2500])
    if kind == 0:
        return rng.choice(LATIN) * n
    if kind == 1:
        return "".join(rng.choice(LATIN) for _ in range(n))
    if kind == 2:
        syl = rng.choice(["ab", "xyz", "tion", "ing", "anti", "ología"])
        return syl * (n // len(syl))
    if kind == 3:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))
    if kind == 4:
        return rng.choice(CJK) * (n // 4) + "".join(rng.choice(CJK) for _ in range(n // 4))
    return "".join(rng.choice(EMOJI) for _ in range(n // 20))


def _random_codepoints(rng):
    ranges = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x52f), (0x590, 0x6ff), (0x900, 0xdff), (0xe00, 0xeff),
              (0x1100, 0x11ff), (0x1e00, 0x1fff), (0x2000, 0x2bff), (0x3000, 0x30ff), (0x4e00, 0x9fff),
              (0xac00, 0xd7a3), (0xe000, 0xf8ff), (0xf900, 0xffff), (0x10000, 0x1ffff), (0x20000, 0x2ffff),
              (0xe0000, 0xe01ef), (0xf0000, 0x10ffff)]
    out = []
    for _ in range(rng.randint(1, 40)):
        lo, hi = rng.choice(ranges)
        cp = rng.randint(lo, hi)
        if not 0xd800 <= cp <= 0xdfff:
            out.append(chr(cp))
    return "".join(out)


def _piece(rng):
    r = rng.random()
    if r < 0.20:
        return rng.choice(WORDS)
    if r < 0.28:
        return "".join(rng.choice(CJK) for _ in range(rng.randint(1, 12)))
    if r < 0.30:
        return rng.choice(CJK_EXT)
    if r < 0.38:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if r < 0.44:
        return _combining(rng)
    if r < 0.50:
        return rng.choice(RTL)
    if r < 0.56:
        return rng.choice(SCRIPTS)
    if r < 0.62:
        return "".join(rng.choice(CONTROL) for _ in range(rng.randint(1, 3)))
    if r < 0.74:
        return rng.choice(SPACES) * rng.choice([1, 1, 1, 2, 3, 8, 17])
    if r < 0.80:
        return _digits(rng)
    if r < 0.86:
        return rng.choice(SPECIALS)
    if r < 0.88:
        return _long_word(rng)
    return _random_codepoints(rng)


def texts(seed=1234, n=3000):
    """n strings of 1 to 12 random pieces (joined with or without spaces), plus fixed edge cases."""
    rng = random.Random(seed)
    out = ["", " ", "\n", "\t", "\x00", "\ufffd", "a" * 5000, " " * 1000, "\n" * 500, "9" * 1000,
           "👨‍👩‍👧‍👦" * 50, "e\u0301" * 200, "<s>" * 20, "<|endoftext|>" * 20]
    while len(out) < n:
        parts = [_piece(rng) for _ in range(rng.randint(1, 12))]
        sep = rng.choice(["", " ", " ", "", "\n", rng.choice(SPACES)])
        out.append(sep.join(parts))
    return out


def special_texts(specials, seed=99, n=200):
    """Strings built around one vocabulary's added-token texts: alone, glued to words, next to
    spaces and newlines (lstrip/rstrip), repeated, and with a character removed."""
    rng = random.Random(seed)
    specials = sorted(specials)
    if not specials:
        return []
    out = []
    for _ in range(n):
        sp = rng.choice(specials)
        kind = rng.randrange(6)
        if kind == 0:
            out.append(sp)
        elif kind == 1:
            out.append(rng.choice(WORDS) + sp + rng.choice(WORDS))
        elif kind == 2:
            out.append(rng.choice(SPACES) + sp + rng.choice(SPACES) + rng.choice(WORDS))
        elif kind == 3:
            out.append(" ".join(rng.choice(specials) for _ in range(rng.randint(2, 5))))
        elif kind == 4 and len(sp) > 1:
            k = rng.randrange(len(sp))
            out.append("x " + sp[:k] + sp[k + 1:] + " y")
        else:
            out.append(_piece(rng) + sp + "\n" + _piece(rng))
    return out


def invalid_utf8(seed=4321, n=300):
    """Byte strings mixing ASCII, valid multi-byte characters and invalid sequences. None contains
    '"', '\\' or a byte below 0x20, so each can be written between quotes as one JSON-lines entry."""
    rng = random.Random(seed)
    bad = [b"\x80", b"\xbf", b"\x80\x80", b"\xc0", b"\xc1\xbf", b"\xc2", b"\xdf", b"\xe0", b"\xe0\x80",
           b"\xe0\xa0", b"\xe2\x82", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xef\xbf", b"\xf0", b"\xf0\x80\x80\x80",
           b"\xf0\x9f", b"\xf0\x9f\x98", b"\xf4\x90\x80\x80", b"\xf5", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff",
           b"\xc0\xaf", b"\xe0\x80\xaf", b"\xc3\x28", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc"]
    good = ["a", "ab", " ", "  ", "Hello", " world", "é", "日本", "🙂", "👍🏽", "x'S", "123", "ไทย", "<s>",
            "<|endoftext|>", "<|im_start|>"]
    out = [b"\xff", b"\x80", b"a\xffb", b"\xe2\x82\xac\xe2\x82", b"\xf0\x9f\x99\x82\xf0\x9f\x99"]
    while len(out) < n:
        parts = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                parts.append(rng.choice(bad))
            else:
                parts.append(rng.choice(good).encode("utf-8"))
        out.append(b"".join(parts))
    return out

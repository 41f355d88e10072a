"""Regenerate the app's default model: instrument_studio/resources/default_model/.

    python packaging/make_default_model.py [--out DIR] [--epochs N] [--seed S]

Renders (or reuses) the starter set (core/datasets/starter.py: General MIDI instruments from a SoundFont,
rendered locally by tinysoundfont), extracts MFCC summaries, trains the MLP with early stopping on
the validation split, evaluates it on the test split, and writes the bundle and MODEL_CARD.md
(where the data came from, which SoundFont and its licence, the measured accuracy).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from instrument_studio.core.predict.inference import DEFAULT_MODEL  # noqa: E402

# What we know of the SoundFonts core/datasets/starter.py may pick (its search order).
SOUNDFONT_LICENCES = {
    "FluidR3_GM.sf2": "MIT (Frank Wen's Fluid R3 General MIDI SoundFont; Debian package fluid-soundfont-gm)",
    "MuseScore_General.sf2": "MIT (MuseScore General SoundFont by S. Christian Collins)",
    "MuseScore_General_Full.sf2": "MIT (MuseScore General SoundFont by S. Christian Collins)",
    "TimGM6mb.sf2": "GPL-2.0 (Tim Brechbill's TimGM6mb, as shipped in the pretty-midi wheel)",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.datasets.starter import find_soundfont, load_recipe, starter_dataset
    from instrument_studio.core.evaluation.report import evaluate_model
    from instrument_studio.core.features.extraction import extract_features
    from instrument_studio.core.learn.bundle import save_bundle
    from instrument_studio.core.learn.training import TrainConfig, train

    soundfont = find_soundfont()
    recipe = load_recipe()
    print(f"starter set from {soundfont.path}", flush=True)
    dataset = starter_dataset()
    features = FeatureConfig(kind="mfcc")
    fs = extract_features(dataset, features)
    print(f"features: {fs.n('train')} train, {fs.n('val')} val, {fs.n('test')} test rows", flush=True)
    # Chosen among a few MLPs on the validation split (0.71-0.77 test accuracy for all of them).
    cfg = TrainConfig(model="mlp", model_params={"units": 256, "activation": "relu", "dropout": 0.3, "depth": 2},
                      epochs=args.epochs, batch_size=32, learning_rate=0.001, seed=args.seed,
                      stop_rule="early-stopping", patience=20, restore_best=True)
    result = train(cfg, fs)
    report = evaluate_model(result, fs, split="test").report()
    val = evaluate_model(result, fs, split="val").report()
    metrics = {"test_accuracy": report.accuracy, "test_macro_f1": report.macro_f1, "test_clips": report.n,
               "val_accuracy": val.accuracy}
    out = save_bundle(args.out, model=inference_copy(result.model), labels=result.labels, feature_config=features,
                      mean=result.mean, std=result.std, train_config=cfg, history=result.history, metrics=metrics)
    size = sum(p.stat().st_size for p in out.iterdir())
    licence = SOUNDFONT_LICENCES.get(soundfont.path.name, "unknown: check the SoundFont's own licence")
    per_class = "\n".join(f"| {label} | {m.precision:.2f} | {m.recall:.2f} | {m.f1:.2f} | {m.support} |"
                          for label, m in report.per_class.items())
    card = f"""# Default model: instrument recogniser trained on the starter set

Shipped with Instrument Studio and used when no other model is chosen
(`instrument-studio predict FILE`, the Audio panel's prediction timeline, live prediction).

## Training data
- **The starter set**, rendered locally by `instrument_studio/core/datasets/starter.py` from
  `instrument_studio/resources/starter-recipe.json` (seed {recipe.get('seed')}): {len(dataset.clips)} clips of
  {len(result.labels)} General MIDI instruments ({', '.join(result.labels)}): single notes across each
  instrument's playing range at several velocities and lengths, and short melodic phrases.
- Synthesised with **tinysoundfont** from the SoundFont **{soundfont.path.name}** ({soundfont.path}).
  SoundFont licence: {licence}.
- No recordings of real players were used: the model has only heard sampled General MIDI
  instruments, so it is a demonstration model. Expect lower accuracy on real recordings, in rooms,
  with several instruments at once, and for instruments outside its ten classes (it will still name
  one of its ten).
- Splits: {fs.n('train')} train / {fs.n('val')} validation / {fs.n('test')} test clips, grouped so that
  renderings of one note or phrase never straddle two splits.

## Model
- Input: MFCC summary per clip (FeatureConfig kind "mfcc": {features.n_mfcc} MFCCs x
  {', '.join(features.mfcc_stats)} = {features.n_mfcc * len(features.mfcc_stats)} values, log-mel at
  {features.mel.sr} Hz, {features.mel.n_mels} bands, fmax {features.mel.fmax:g} Hz), standardised with the
  training mean and std stored in `bundle.json`.
- Network: MLP ({cfg.model_params}), Adam lr {cfg.learning_rate}, batch {cfg.batch_size}, early stopping on
  validation accuracy (patience {cfg.patience}), best weights kept: {result.epochs_run} epochs run, best epoch
  {result.best_epoch}.
- Size on disk: {size / 1024:.0f} KiB.

## Measured accuracy (starter set test split, {report.n} clips never seen in training)
- accuracy **{report.accuracy:.1%}**, macro F1 **{report.macro_f1:.3f}**, micro F1 {report.micro_f1:.3f}
  (validation accuracy {val.accuracy:.1%})

| class | precision | recall | F1 | clips |
|---|---|---|---|---|
{per_class}

## Regenerate
`python packaging/make_default_model.py` (renders the starter set into the user cache on first use;
the same recipe, SoundFont and seed give the same data). Generated {datetime.now(timezone.utc):%Y-%m-%d} with
{', '.join(f'{k} {v}' for k, v in result_versions().items())}.
"""
    (out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    print(f"wrote {out} ({size / 1024:.0f} KiB): test accuracy {report.accuracy:.3f}, "
          f"macro F1 {report.macro_f1:.3f}")
    return 0


def inference_copy(model):
    """The same network and weights without the optimizer's state (a third of the size)."""
    import keras

    # clone_model would copy the compile state (and the optimizer with it); from_config does not.
    plain = keras.Model.from_config(model.get_config())
    plain.set_weights(model.get_weights())
    return plain


def result_versions() -> dict[str, str]:
    from instrument_studio.core.learn.bundle import library_versions

    v = library_versions()
    return {k: v[k] for k in ("instrument-studio", "keras", "tensorflow-cpu", "librosa") if k in v}


if __name__ == "__main__":
    raise SystemExit(main())

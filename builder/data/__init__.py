"""The data stage: read security/general instruction data and corpora, clean, mix, split."""

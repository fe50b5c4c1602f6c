import random


def build_quiz(questions: list[dict], count: int = 10, seed: int | None = None) -> list[dict]:
    rng = random.Random(seed)
    chosen = rng.sample(questions, k=min(count, len(questions)))
    picked = [dict(q, choices=list(q["choices"])) for q in chosen]
    for q in picked:
        rng.shuffle(q["choices"])
    return picked

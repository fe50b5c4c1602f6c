"""`Source`: one typed citation for every front end, with the on-disk and on-wire forms unchanged."""

from app.knowledge import Hit
from app.source import Source, SourceList


def _hit(n: int = 1, **kw) -> Hit:
    base = dict(id=str(n), text="Bind every value.", source=f"notes/{n}.md", heading="Prevention", start_line=3,
                end_line=9, score=0.123456, kb="bundle", flags=("intro",))
    return Hit(**{**base, **kw})


def test_json_form_is_what_ask_and_serve_print():
    s = Source.from_hit(2, _hit(2))
    assert s.as_json() == {"n": 2, "path": "notes/2.md", "heading": "Prevention", "lines": "3-9", "start_line": 3,
                           "end_line": 9, "score": 0.123456, "kb": "bundle", "flags": ["intro"]}
    assert s.as_json(path="2.md", score_digits=4)["path"] == "2.md"
    assert s.as_json(score_digits=4)["score"] == 0.1235
    assert Source.from_hit(1, _hit(start_line=4, end_line=4)).lines == "4"


def test_history_record_round_trips_and_old_records_still_read():
    cited = Source.from_hit(1, _hit()).citing(["Use bound parameters."], ["Bind every value."])
    rec = cited.to_record()
    assert rec["file"] == "notes/1.md" and rec["line_start"] == 3 and rec["supports"] == ["Use bound parameters."]
    back = Source.from_record(rec)
    assert (back.path, back.start_line, back.end_line, back.supports, back.span, back.cited) == (
        "notes/1.md", 3, 9, ("Use bound parameters.",), "Bind every value.", True)
    old = Source.from_record({"source": "a.md", "heading": "H", "line_start": "2"}, n=5)  # an earlier version's keys
    assert (old.path, old.n, old.start_line, old.end_line) == ("a.md", 5, 2, 2)
    assert Source.from_record({}).line() == "?"
    assert old.line() == "a.md › H (lines 2-2)"


def test_shown_sources_are_the_cited_ones_else_all_given_marked_uncited():
    given = [Source.from_hit(n, _hit(n)) for n in (1, 2)]
    assert [s.n for s in SourceList(given, [given[1].citing(["x"], ["y"])]).shown()] == [2]
    shown = SourceList(given, []).shown()
    assert [s.cited for s in shown] == [False, False] and [s.n for s in shown] == [1, 2]

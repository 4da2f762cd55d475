"""A field path from the validator is mapped to its line in the pack file."""

from __future__ import annotations

import json

from rules.engine.file_lines import field_lines, line_of, split_path

TEXT = """{
  "format": "rulepack/1",
  "deadline_rules": [
    {"key": "a", "versions": []},
    {
      "key": "b",
      "versions": [
        {
          "offset": -3,
          "label": "with \\"quotes\\" and [brackets] and {braces}"
        }
      ]
    }
  ],
  "translations": {"fr": {"It's late": "C'est tard"}}
}
"""


def test_it_splits_paths_with_indexes_and_quoted_keys() -> None:
    assert split_path("deadline_rules[2].versions[0].offset") == (
        "deadline_rules",
        2,
        "versions",
        0,
        "offset",
    )
    assert split_path('translations.fr["It\'s late"]') == ("translations", "fr", "It's late")


def test_it_gives_the_line_of_a_nested_field() -> None:
    assert line_of(TEXT, "deadline_rules[1].versions[0].offset") == 9
    assert line_of(TEXT, "deadline_rules[1].key") == 6
    assert line_of(TEXT, "deadline_rules[0]") == 4
    assert line_of(TEXT, "format") == 2


def test_it_gives_the_line_of_a_translation_key_as_the_reader_names_it() -> None:
    source = "It's late"
    assert line_of(TEXT, f"translations.fr[{source!r}]") == 15


def test_a_missing_field_points_at_the_record_that_lacks_it() -> None:
    assert line_of(TEXT, "deadline_rules[1].versions[0].unit") == 8
    assert line_of(TEXT, "") == 1


def test_strings_with_json_punctuation_do_not_confuse_it() -> None:
    lines = field_lines(TEXT)
    assert lines[("deadline_rules", 1, "versions", 0, "label")] == 10
    assert lines[("translations",)] == 15
    assert json.loads(TEXT)  # the sample is valid JSON

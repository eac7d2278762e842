"""The experiment file: valid YAML loads; mistakes give one line each, YAML syntax errors one line with a line
number."""

from __future__ import annotations

from pathlib import Path

import pytest

from inward import tasks as T
from inward.errors import UserError
from inward.experiments.config import ALL_EXPERIMENTS, ExperimentConfig, load_config

VALID = """\
name: small-demo
seed: 7
models:
  m1: local/qwen2.5-0.5b
  m2: local/smollm2-135m+adapter=m2-base
experiments: [self_training, calibration]
train_tasks: [countries_long, numbers]
eval_tasks: [animals_long]
properties: [first_word, is_either_a_or_c]
sizes: {train_items_per_task: 30, per_combo: 10, shift_self_distill: 0.25}
training:
  m1: {lr: 2.0e-4, epochs: 2}
calibration:
  - {task: animals_long, property: first_word}
"""


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_lines(path: Path) -> list[str]:
    with pytest.raises(UserError) as info:
        load_config(path)
    return str(info.value).splitlines()


def test_valid_file_loads_with_overrides_and_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, VALID))
    assert cfg.name == "small-demo" and cfg.seeds == (7,)
    assert cfg.models.m2 == "local/smollm2-135m+adapter=m2-base"
    assert cfg.experiments == ("self_training", "calibration")
    assert cfg.train_tasks == ("countries_long", "numbers")
    assert cfg.properties == ("first_word", "among_a_or_c")  # aliases are canonicalised at the boundary
    assert (cfg.sizes.train_items_per_task, cfg.sizes.per_combo, cfg.sizes.shift_self_distill) == (
        30,
        10,
        0.25,
    )
    assert cfg.sizes.eval_items_per_task == ExperimentConfig().sizes.eval_items_per_task  # default kept
    assert (cfg.training.m1.lr, cfg.training.m1.epochs) == (2.0e-4, 2)
    assert cfg.training.m2 == ExperimentConfig().training.m2
    assert [(c.task, c.property) for c in cfg.calibration] == [("animals_long", "first_word")]


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    assert cfg == ExperimentConfig()
    assert cfg.experiments == ALL_EXPERIMENTS
    assert cfg.train_tasks is None and cfg.eval_tasks is None
    assert all(T.get(c.task) for c in cfg.calibration)


def test_three_mistakes_give_one_line_each(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: demo\n"
        "models: {m1: local/qwen2.5-0.5b, m2: smollm2-135m}\n"
        "eval_tasks: [animals_long, no_such_task]\n"
        "sizes: {per_combo: -4}\n",
    )
    lines = error_lines(path)
    assert len(lines) == 3, lines
    assert all(line.startswith(f"{path}: ") for line in lines)
    by_field = {line.split(": ")[1]: line for line in lines}
    assert set(by_field) == {"models.m2", "eval_tasks", "sizes.per_combo"}
    assert "bad model ref 'smollm2-135m'" in by_field["models.m2"]
    assert "unknown task 'no_such_task'" in by_field["eval_tasks"]
    assert "greater than or equal to 1" in by_field["sizes.per_combo"]
    assert not any(line.startswith("Value error") or "Value error," in line for line in lines)


def test_unknown_keys_experiments_and_types_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "experiments: [self_training, telepathy]\nseed: seven\n"
        "sizez: {per_combo: 3}\nproperties: [fifth_word]\n",
    )
    lines = error_lines(path)
    assert len(lines) == 4, lines
    text = "\n".join(lines)
    assert (
        "experiments: unknown experiment 'telepathy'" in text
        and "sizez: Extra inputs are not permitted" in text
    )
    assert "seeds.0:" in text and "unknown property 'fifth_word'" in text


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: demo\nmodels:\n  m1: [local/x\n  m2: y\n", 4),  # unclosed flow sequence, seen at line 4
        ("name: demo\nsizes:\n\tper_combo: 3\n", 3),  # a tab indent
        ('name: demo\nseed: 1\ntemplate: "inward-v1\n', 4),  # unterminated string, seen at the end
        ("seed: 1\nname: de\x07mo\n", 2),  # a control character (a reader error, which has no mark)
    ],
)
def test_yaml_syntax_errors_are_one_line_with_the_line_number(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, text)
    lines = error_lines(path)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: line {line}: not valid YAML (")


def test_non_mapping_and_missing_files(tmp_path: Path) -> None:
    assert error_lines(write(tmp_path, "- a\n- b\n")) == [
        f"{tmp_path / 'exp.yaml'}: the experiment file must be a mapping of settings"
    ]
    missing = tmp_path / "nope.yaml"
    with pytest.raises(UserError, match="no experiment file"):
        load_config(missing)


def test_a_dumped_config_loads_back_unchanged(tmp_path: Path) -> None:
    """Runs save their resolved config as YAML; it must load back to the same settings."""
    import yaml

    cfg = load_config(write(tmp_path, VALID))
    dumped = write(tmp_path, yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False), "dumped.yaml")
    assert load_config(dumped) == cfg


def test_pipeline_labels_name_m1_first_when_m1_and_m2_are_the_same_model(tmp_path: Path) -> None:
    from inward.experiments.pipeline import Pipeline

    same = ExperimentConfig.model_validate(
        {"name": "same", "models": {"m1": "local/smollm2-135m", "m2": "local/smollm2-135m"}}
    )
    p = Pipeline(same, tmp_path / "ws", progress=False).context(0)
    assert p.label("local/smollm2-135m") == "M1 (smollm2-135m)"
    assert p.label("local/smollm2-135m+adapter=same-m1-self") == "M1 (smollm2-135m) + m1-self"
    two = ExperimentConfig.model_validate({"name": "two"})
    q = Pipeline(two, tmp_path / "ws2", progress=False).context(0)
    assert q.label("local/smollm2-135m") == "M2 (smollm2-135m)"
    assert q.label("local/qwen2.5-0.5b") == "M1 (qwen2.5-0.5b)"


def test_collateral_tasks_default_off_and_unknown(tmp_path: Path) -> None:
    from inward.experiments.demo import PROFILES

    assert ExperimentConfig().collateral_tasks is None  # default: the training tasks that are not held out
    assert load_config(write(tmp_path, "collateral_tasks: []\n")).collateral_tasks == ()  # check off
    lines = error_lines(write(tmp_path, "collateral_tasks: [colors_long, telepathy]\n"))
    assert len(lines) == 1 and "collateral_tasks" in lines[0] and "unknown task 'telepathy'" in lines[0]
    cpu = ExperimentConfig.model_validate(PROFILES["cpu"])
    assert cpu.collateral_tasks and not set(cpu.collateral_tasks) & set(cpu.eval_tasks or ())


def test_a_config_and_the_yaml_it_writes_digest_the_same(tmp_path: Path) -> None:
    """The demo writes its experiment file from the in-process config; `inward run` of that file must find the
    same steps and adapters. Before, the unvalidated default alpha=16 (int) became 16.0 (float) in the file, so
    every training step key changed and the whole demo retrained."""
    import json

    import yaml

    from inward.experiments.demo import demo_config

    for profile in ("quick", "cpu", "paper"):
        cfg = demo_config(profile)
        path = tmp_path / f"{profile}.yaml"
        path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
        back = load_config(path)
        assert json.dumps(back.model_dump(), sort_keys=True) == json.dumps(cfg.model_dump(), sort_keys=True)
        for plan in (cfg.training.m1, cfg.training.m2, cfg.training.shift):
            assert isinstance(plan.alpha, float)

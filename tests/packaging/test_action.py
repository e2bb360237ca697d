"""action.yml: `uses: https://codeberg.org/bookstack-sync/bookstack-sync@v1` with `with:` inputs that are the plugin's settings."""

from __future__ import annotations

import re

import yaml

from bookstack_sync.settings import SETTINGS, Kind

from .dockerfile import ROOT


def action() -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_input_is_a_setting_and_every_setting_is_an_input() -> None:
    assert set(action()["inputs"]) == {spec.name for spec in SETTINGS}


def test_each_input_reaches_the_plugin_as_its_plugin_variable() -> None:
    env = action()["runs"]["env"]
    for spec in SETTINGS:
        assert env[spec.env] == f"${{{{ inputs.{spec.name} }}}}", spec.name
    assert {name for name in env if name.startswith("PLUGIN_")} == {spec.env for spec in SETTINGS}


def test_an_omitted_output_input_keeps_its_default_file() -> None:
    # Actions passes an omitted input as "", and an empty report/summary path turns the file off
    inputs = action()["inputs"]
    for spec in SETTINGS:
        if spec.kind is Kind.PATH and isinstance(spec.default, str):
            assert inputs[spec.name].get("default") == spec.default, spec.name
        assert inputs[spec.name]["required"] is False
        assert inputs[spec.name]["description"]


def test_runs_the_plugin_image_and_maps_the_event() -> None:
    runs = action()["runs"]
    # the published image, as a Woodpecker step pins it (check_packaging.py checks the name everywhere)
    assert runs["using"] == "docker" and runs["image"] == "docker://codeberg.org/bookstack-sync/bookstack-sync:1"
    event = runs["env"]["CI_PIPELINE_EVENT"]
    assert "'manual'" in event and "github.event_name" in event


def test_secret_inputs_say_to_use_secrets() -> None:
    for spec in SETTINGS:
        if spec.secret:
            assert re.search(r"secrets\.", action()["inputs"][spec.name]["description"])

from __future__ import annotations

import json

from stages.sanitizer.fields import text_leaves, with_texts


def test_finds_text_fields_and_every_string_leaf_of_input_data() -> None:
    record = {
        "inputText": "hi",
        "ratingComment": None,
        "previousInputText": "before",
        "inputData": {"name": "Jane", "tags": ["a", {"email": "x@y.z"}], "count": 3},
        "previousInputData": '{"phone": "123"}',
        "flowName": "Main",
    }
    leaves = {(leaf.path, leaf.text, leaf.key) for leaf in text_leaves(record)}
    assert leaves == {
        (("inputText",), "hi", None),
        (("previousInputText",), "before", None),
        (("inputData", "name"), "Jane", "name"),
        (("inputData", "tags", 0), "a", "tags"),
        (("inputData", "tags", 1, "email"), "x@y.z", "email"),
        (("previousInputData", "phone"), "123", "phone"),
    }


def test_puts_texts_back_into_copies() -> None:
    data = {"name": "Jane", "tags": ["a", "b"]}
    record = {"inputText": "hi Jane", "inputData": data, "previousInputData": '{"name": "Jane", "n": 1}'}
    replaced = with_texts(record, {
        ("inputText",): "hi [PERSON]",
        ("inputData", "name"): "[PERSON]",
        ("previousInputData", "name"): "[PERSON]",
    })
    assert replaced["inputText"] == "hi [PERSON]"
    assert replaced["inputData"] == {"name": "[PERSON]", "tags": ["a", "b"]}
    assert json.loads(replaced["previousInputData"]) == {"name": "[PERSON]", "n": 1}
    assert record["inputText"] == "hi Jane" and data == {"name": "Jane", "tags": ["a", "b"]}


def test_plain_text_input_data_is_one_text() -> None:
    record = {"inputData": "call Jane"}
    [leaf] = text_leaves(record)
    assert leaf.path == ("inputData",)
    assert with_texts(record, {("inputData",): "call [PERSON]"})["inputData"] == "call [PERSON]"


def test_attachments_reference_and_keys_that_hold_values_are_texts_too() -> None:
    record = {
        "inputText": None,
        "reference": "ticket for jane.roe@example.org",
        "inputAttachments": [{"url": "https://files.example/u/Jane_Roe_passport.pdf", "name": "Jane_Roe_passport.pdf",
                              "type": "file"}],
        "inputData": {"jane.roe@example.org": True, "+49 151 2345678": "mobile", "order_id": "A1", "field-2": "x"},
    }
    texts = {leaf.text for leaf in text_leaves(record)}
    assert {"ticket for jane.roe@example.org", "https://files.example/u/Jane_Roe_passport.pdf",
            "Jane_Roe_passport.pdf", "jane.roe@example.org", "+49 151 2345678"} <= texts
    assert not {"order_id", "field-2"} & texts  # identifiers are names, not values


def test_a_key_that_holds_a_value_is_replaced_in_place() -> None:
    record = {"inputData": '{"jane.roe@example.org": {"opted_in": true}, "plan": "gold"}'}
    [key] = [leaf for leaf in text_leaves(record) if leaf.text == "jane.roe@example.org"]
    copy = with_texts(record, {key.path: "<EMAIL>"})
    assert json.loads(copy["inputData"]) == {"<EMAIL>": {"opted_in": True}, "plan": "gold"}

"""The mock's OpenAI-compatible API, held to the official openai-python client.

Usage: python openai_conformance.py ROSTRO_MOCK_URL ROUTSTR_MOCK_URL

ROSTRO_MOCK_URL is a `rostro-mock --key ci-key` server, ROUTSTR_MOCK_URL a
`rostro-mock --routstr` one. Every check uses the client unchanged, the way a
user's code would; any exception fails the run.
"""

import json
import sys
import urllib.request

import openai
import pydantic

KEY = "ci-key"
failures = []
passed = []


def check(name):
    def wrap(fn):
        try:
            fn()
            passed.append(name)
        except Exception as e:  # noqa: BLE001 - report every failure, then exit non-zero
            failures.append(f"{name}: {type(e).__name__}: {e}")
        return fn

    return wrap


def control(base, method, path, body=None):
    req = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


base, routstr_base = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)
MODEL = "mixtral"
USER = [{"role": "user", "content": "hello there"}]


@check("models")
def _():
    ids = [m.id for m in client.models.list()]
    assert "mixtral" in ids, ids


@check("chat")
def _():
    r = client.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "echo: hello there", r
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens > 0


@check("chat stream with usage")
def _():
    text, finish, usage = "", None, None
    for chunk in client.chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert text == "echo: hello there", text
    assert finish == "stop"
    assert usage and usage.completion_tokens > 0


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
NOW = {"type": "function", "function": {"name": "now"}}
EMPTY = {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}


@check("tool call")
def _():
    r = client.chat.completions.create(model=MODEL, messages=USER, tools=[WEATHER])
    calls = r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "tool_calls"
    args = json.loads(calls[0].function.arguments)
    assert set(args) == {"city", "unit", "days"} and args["unit"] in ("c", "f"), args
    assert 1 <= args["days"] <= 7
    # Answer the call; the reply echoes the tool result.
    r2 = client.chat.completions.create(
        model=MODEL,
        messages=USER
        + [r.choices[0].message.model_dump(exclude_none=True)]
        + [{"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"}],
        tools=[WEATHER],
    )
    assert r2.choices[0].message.content == "echo: sunny", r2


@check("parallel and no-parameter tools")
def _():
    ids = set()
    for _ in range(3):
        r = client.chat.completions.create(
            model=MODEL, messages=USER, tools=[WEATHER, NOW, EMPTY], parallel_tool_calls=True
        )
        calls = r.choices[0].message.tool_calls
        assert [c.function.name for c in calls] == ["get_weather", "now", "ping"]
        assert calls[1].function.arguments == "{}" and calls[2].function.arguments == "{}"
        ids.update(c.id for c in calls)
    assert len(ids) == 9, f"tool call ids repeat: {ids}"


@check("streamed tool calls")
def _():
    args, names = {}, {}
    for chunk in client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER, NOW], parallel_tool_calls=True, stream=True
    ):
        for c in chunk.choices:
            for t in c.delta.tool_calls or []:
                if t.function and t.function.name:
                    names[t.index] = t.function.name
                args[t.index] = args.get(t.index, "") + ((t.function and t.function.arguments) or "")
    assert names == {0: "get_weather", 1: "now"}, names
    assert json.loads(args[1]) == {}
    assert set(json.loads(args[0])) == {"city", "unit", "days"}


@check("response_format json_object")
def _():
    r = client.chat.completions.create(
        model=MODEL, messages=USER, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(r.choices[0].message.content), dict)


class Step(pydantic.BaseModel):
    explanation: str
    output: str


class Reasoning(pydantic.BaseModel):
    steps: list[Step]
    final_answer: str
    confidence: int


@check("structured output (parse, strict json_schema)")
def _():
    parse = getattr(client.chat.completions, "parse", None) or client.beta.chat.completions.parse
    r = parse(model=MODEL, messages=USER, response_format=Reasoning)
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Reasoning) and parsed.steps, r


@check("legacy completions")
def _():
    r = client.completions.create(model=MODEL, prompt="say hi", max_tokens=10)
    assert r.choices[0].text.startswith("echo:"), r
    text = "".join(
        c.choices[0].text for c in client.completions.create(model=MODEL, prompt="say hi", stream=True)
    )
    assert text == "echo: say hi", text


@check("errors: 401, 404 model, 400")
def _():
    bad = openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0)
    try:
        bad.chat.completions.create(model=MODEL, messages=USER)
        raise AssertionError("a wrong key was accepted")
    except openai.AuthenticationError:
        pass
    control(base, "POST", "/_mock/faults", {"kind": "status", "status": 400, "times": 1, "route": "/v1/chat/completions"})
    try:
        client.chat.completions.create(model=MODEL, messages=USER)
        raise AssertionError("the 400 was not raised")
    except openai.BadRequestError:
        pass


@check("retries: 429 with Retry-After, 503, dropped connection")
def _():
    control(base, "DELETE", "/_mock/faults")
    control(base, "POST", "/_mock/reset")
    retrying = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=3)
    control(base, "POST", "/_mock/faults", {"kind": "rate_limit", "retry_after_secs": 1, "times": 1, "route": "/v1/chat/completions"})
    control(base, "POST", "/_mock/faults", {"kind": "status", "status": 503, "times": 1, "route": "/v1/chat/completions"})
    control(base, "POST", "/_mock/faults", {"kind": "drop", "times": 1, "route": "/v1/chat/completions"})
    r = retrying.chat.completions.create(model=MODEL, messages=USER)
    assert r.choices[0].message.content == "echo: hello there"
    attempts = control(base, "GET", "/_mock/attempts")
    assert attempts.get("POST /v1/chat/completions") == 4, attempts


# A Routstr node: same client, key from the node.
@check("routstr node: chat, completions, models")
def _():
    key = control(routstr_base, "POST", "/_mock/routstr/keys", {"msats": 1_000_000})["api_key"]
    node = openai.OpenAI(base_url=f"{routstr_base}/v1", api_key=key, max_retries=0)
    models = [m.id for m in node.models.list()]
    assert "gpt-4o-mini" in models, models
    r = node.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert r.choices[0].message.content == "echo: hello there"
    c = node.completions.create(model="gpt-4o-mini", prompt="say hi")
    assert c.choices[0].text.startswith("echo:"), c
    try:
        node.chat.completions.create(model="no-such-model", messages=USER)
        raise AssertionError("an unknown model was accepted")
    except openai.APIStatusError as e:
        assert 400 <= e.status_code < 500, e


print(f"openai-python {openai.__version__}: {len(passed)} checks passed")
for p in passed:
    print(f"  ok   {p}")
for f in failures:
    print(f"  FAIL {f}")
sys.exit(1 if failures else 0)

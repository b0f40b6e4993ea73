"""The official OpenAI Python client against the real engine binary and the default model."""
import concurrent.futures


def test_models_list(client):
    models = client.models.list().data
    assert len(models) == 1
    assert models[0].id.startswith("SmolLM2-135M-Instruct")


def test_chat_non_streaming(client, model_id):
    r = client.chat.completions.create(
        model=model_id, temperature=0, max_tokens=24,
        messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert r.object == "chat.completion"
    choice = r.choices[0]
    assert choice.message.role == "assistant"
    assert "Paris" in choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 10 and r.usage.completion_tokens >= 1
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_streaming_with_usage(client, model_id):
    stream = client.chat.completions.create(
        model=model_id, temperature=0, max_tokens=24, stream=True, stream_options={"include_usage": True},
        messages=[{"role": "system", "content": "You are terse."},
                  {"role": "user", "content": "What is the capital of France?"}])
    text, finish, usage, roles = "", None, None, []
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.role:
                roles.append(c.delta.role)
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert roles == ["assistant"]
    assert "Paris" in text
    assert finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens >= 1


def test_completion_greedy_matches_reference(client, model_id):
    r = client.completions.create(model=model_id, prompt="The capital of France is", max_tokens=12, temperature=0)
    assert r.choices[0].text == " Paris.\n\nThe answer is: 201"
    assert r.choices[0].finish_reason == "length"
    assert r.usage.prompt_tokens == 5 and r.usage.completion_tokens == 12


def test_completion_streaming_and_stop(client, model_id):
    pieces = []
    finish = None
    for chunk in client.completions.create(model=model_id, prompt="The capital of France is", max_tokens=12,
                                           temperature=0, stream=True, stop=["."]):
        for c in chunk.choices:
            pieces.append(c.text)
            finish = c.finish_reason or finish
    assert "".join(pieces) == " Paris"
    assert finish == "stop"


def test_seeded_sampling_is_reproducible(client, model_id):
    def once():
        return client.completions.create(model=model_id, prompt="Once upon a time", max_tokens=16,
                                         temperature=0.9, top_p=0.95, seed=1234).choices[0].text
    a, b = once(), once()
    assert a == b and len(a) > 0


def test_concurrent_requests_all_complete(client, model_id):
    def one(i):
        return client.chat.completions.create(model=model_id, temperature=0, max_tokens=8,
                                              messages=[{"role": "user", "content": f"Count to {i}."}])
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        results = list(ex.map(one, range(6)))
    assert all(r.choices[0].finish_reason in ("stop", "length") for r in results)
    assert all(r.usage.completion_tokens >= 1 for r in results)

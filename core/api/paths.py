"""Path templates such as /jobs/{id}: matching and specificity. The Api's router
and the local API Gateway front door choose routes the same way."""

__all__ = ["literal_parts", "match_path"]


def match_path(template: str, path: str) -> dict[str, str] | None:
    """The {placeholder} values if ``path`` fits ``template``, else None."""
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    params = {}
    for pattern, part in zip(want, got, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            if not part:
                return None
            params[pattern[1:-1]] = part
        elif pattern != part:
            return None
    return params


def literal_parts(template: str) -> int:
    """How specific a template is: /jobs/batch beats /jobs/{id} for "batch"."""
    return sum(not part.startswith("{") for part in template.strip("/").split("/"))

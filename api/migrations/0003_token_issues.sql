-- Tokens issued from the pages' admin form: the form's key, generated per
-- render, names the one token it issued, so a double submit or a resent
-- form issues once (the secret is shown only the first time).
CREATE TABLE api_token_issues (
	form_key  uuid        PRIMARY KEY,
	token_id  uuid        NOT NULL REFERENCES api_tokens (id),
	issued_by uuid        NOT NULL,
	issued_at timestamptz NOT NULL DEFAULT now()
);

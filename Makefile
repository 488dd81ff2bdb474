# `sam build` runs these (the template's functions use BuildMethod: makefile):
# every function gets the same artifact, built without a container.
.PHONY: build-SubmitFunction build-GetFunction build-DlqRedriveFunction build-ProcessFunction
build-SubmitFunction build-GetFunction build-DlqRedriveFunction build-ProcessFunction:
	python3 infra/lambda_artifact.py "$(ARTIFACTS_DIR)"

# The two commands: `make demo` and `make test`. The rest is for contributors.
.PHONY: demo test lint bench sandbox

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/lint.sh

bench:
	bash scripts/bench.sh $(ARGS)

sandbox:
	cd tests && python3 -m wave_sandbox --port 8765 --seed 42 --state-file ../.cache/sandbox-state.json --demo

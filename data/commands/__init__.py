"""What a person does, once, for the sessions page and the CLI alike: preview, apply (cleanup), retire,
collect, reveal.

A command takes the engine of the primary (`Engines.write`: every read that decides a write runs
there), the settings and the actor, and passes them to the write service, which applies the gate
(`data.guard.require_write`, with the policy the engine was built with), owns the transactions and
audits in them. What the settings decide (batch size, the collector and its broker, the rule
thresholds) is read here, never by a page or the CLI; no caller passes a block reason or a policy.
"""

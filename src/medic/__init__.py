"""medic: a self-healing operations agent.

Detect, diagnose, propose, ask a human, act, verify (undo if needed), document.
See ARCHITECTURE.md in the shared folder for the loop and the layers.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""How many records of each kind a generated org has, and who relates to whom.

Everything here is a pure function of ``(seed, scale)``: a contact's account, owner or email is
computed from its index, never looked up in a table built in memory. That is what lets the
generator stream every object to disk with flat memory, and lets a later section (tasks,
enrollments) point at the right parent without reading what an earlier section wrote.

Clean records (indices ``0..n-1``) carry no defect: they all reference clean, live parents and
active owners who have a Dynamics user. Planted defects (``defects.py``) are extra records
appended after the clean ones, so a defect never cascades into a clean record's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulators.salesforce.generate.sfids import id_for

_MASK = (1 << 64) - 1

# Planted records that count as contacts: see defects.py (kept equal by a test).
PLANTED_CONTACTS = 21
MIN_SCALE = 50


def mix(seed: int, salt: int, index: int) -> int:
    """A well-spread 64-bit hash of ``(seed, salt, index)`` (splitmix64 finaliser)."""
    z = (seed * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9 + index + 1) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


@dataclass(frozen=True)
class Population:
    """Record counts and the pure relationships between clean records of one generated org."""

    seed: int
    scale: int

    # ---- counts -------------------------------------------------------------------------
    @property
    def contacts(self) -> int:
        """Clean contacts; with the planted ones the org holds exactly ``scale`` contacts."""
        return self.scale - PLANTED_CONTACTS

    @property
    def accounts(self) -> int:
        return max(self.scale // 8, 5)

    @property
    def leads(self) -> int:
        return self.scale // 2

    @property
    def active_users(self) -> int:
        """Active sales users who own clean records (each has a Dynamics user)."""
        return max(self.scale // 200, 5)

    @property
    def inactive_users(self) -> int:
        return max(self.active_users // 10, 1)

    @property
    def sequences(self) -> int:
        return 10 + self.scale // 500

    @property
    def opportunities(self) -> int:
        return max(self.accounts // 2, 2)

    # ---- users: 1..active are sales users, then inactive, then integration, unmapped ---------
    def user_id(self, n: int) -> str:
        return id_for("User", n + 1)

    @property
    def integration_user_index(self) -> int:
        return self.active_users + self.inactive_users

    @property
    def unmapped_user_index(self) -> int:
        """An active user with no Dynamics user (planted OWNER_UNMAPPED)."""
        return self.integration_user_index + 1

    @property
    def users(self) -> int:
        return self.unmapped_user_index + 1

    def owner_index(self, salt: int, index: int) -> int:
        """User index of the active, mapped owner of clean record ``index`` of a section."""
        return mix(self.seed, salt, index) % self.active_users

    def owner_of(self, salt: int, index: int) -> str:
        """The active, mapped owner of clean record ``index`` of a section (``salt``)."""
        return self.user_id(self.owner_index(salt, index))

    # ---- accounts ---------------------------------------------------------------------------
    def account_id(self, n: int) -> str:
        return id_for("Account", n + 1)

    def account_parent(self, n: int) -> int | None:
        """Clean hierarchy: about a fifth of accounts have a parent with a smaller index."""
        if n < 3 or mix(self.seed, 11, n) % 5:
            return None
        return mix(self.seed, 12, n) % n

    # ---- people -------------------------------------------------------------------------------
    def contact_id(self, n: int) -> str:
        return id_for("Contact", n + 1)

    def contact_account(self, n: int) -> int:
        return mix(self.seed, 21, n) % self.accounts

    def lead_id(self, n: int) -> str:
        return id_for("Lead", n + 1)

    def lead_converted(self, n: int) -> bool:
        """About 4% of leads were converted; converted leads have no children."""
        return mix(self.seed, 31, n) % 25 == 0

    def person_enrollments(self, kind: str, n: int) -> int:
        """0 for ~40% of people, else 1-2 (mean 1.5), i.e. ~0.9 enrollments per person."""
        h = mix(self.seed, 41 if kind == "Contact" else 42, n)
        if h % 10 < 4:
            return 0
        return 1 + (h >> 8) % 2

    # ---- Leadfwd ---------------------------------------------------------------------------------
    def sequence_id(self, n: int) -> str:
        return id_for("leadfwd__Sequence__c", n + 1)

    def sequence_steps(self, n: int) -> int:
        return 3 + mix(self.seed, 51, n) % 6

    def opportunity_id(self, n: int) -> str:
        return id_for("Opportunity", n + 1)

"""France's regulated residential tariff (TRV, EDF's "tarif bleu"): the default prices.

Pure data module (no Home Assistant import). Prices are per kWh, taxes included (TTC), in euros,
as in the grid in force from 1 August 2026. They are what a user starts from: every price stays
editable in the options, and a user who chooses "my own prices" keeps them whatever the defaults
become in a later version.

Source: the regulated tariff grid (tarif bleu résidentiel, France métropolitaine continentale)
proposed by the Commission de régulation de l'énergie (CRE) in its TRVE deliberation and set by
the ministers' tariff order, in force from 1 August 2026. The figures were given to the project
(issue 13) as this grid's; the grid document itself could not be retrieved to check them again
while this module was written.

The monthly subscription (part fixe, per option and subscribed kVA) is NOT shipped: no source for
the August 2026 grid could be checked while writing this module, and a number that cannot be
traced to the grid is worse than none. The subscription stays the user's own option (the figure
on their bill).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from .tariff import Period

SUBSCRIBED_KVA = (3, 6, 9, 12, 15, 18, 24, 30, 36)
"""The powers a residential contract can subscribe (kVA)."""
DEFAULT_SUBSCRIBED_KVA = 6


@dataclass(frozen=True, kw_only=True, slots=True)
class RegulatedPrices:
    """One grid of the regulated tariff: prices per kWh, TTC, with when and where from."""

    applies_from: date
    source: str
    base_by_max_kva: tuple[tuple[int, float], ...]
    """The Base price by contract size: (up to this kVA, price), smallest first."""
    prices: Mapping[Period, float]
    """Every other period's price: the same for every contract size."""

    def prices_for(self, subscribed_kva: int) -> Mapping[Period, float]:
        """Every period's price for a contract of `subscribed_kva`."""
        if subscribed_kva not in SUBSCRIBED_KVA:
            raise ValueError(f"{subscribed_kva} kVA is not a residential contract size")
        base = next(price for kva, price in self.base_by_max_kva if subscribed_kva <= kva)
        return MappingProxyType({Period.BASE: base, **self.prices})


TRV_2026_08 = RegulatedPrices(
    applies_from=date(2026, 8, 1),
    source=(
        "Tarif réglementé de vente d'électricité (tarif bleu résidentiel), grid in force from "
        "1 August 2026, proposed by the CRE (Commission de régulation de l'énergie)"
    ),
    base_by_max_kva=((6, 0.2001), (36, 0.1985)),
    prices=MappingProxyType(
        {
            Period.HP: 0.2142,
            Period.HC: 0.1589,
            Period.HP_BLUE: 0.1654,
            Period.HC_BLUE: 0.1356,
            Period.HP_WHITE: 0.1921,
            Period.HC_WHITE: 0.1536,
            Period.HP_RED: 0.7295,
            Period.HC_RED: 0.1615,
        }
    ),
)
REGULATED = TRV_2026_08
"""The grid Energy Edge uses for regulated prices."""

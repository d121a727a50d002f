"""The regulatory classification of a plan: one test per rule of regulatory.md section 1.1."""

from __future__ import annotations

from regenpath.domain.products import CellSource, ProductType
from regenpath.domain.quality import ProcessingKind as Step
from regenpath.domain.regulatory import RegulatoryPathway as Pathway
from regenpath.domain.regulatory import classify

AUTO, ALLO = CellSource.AUTOLOGOUS, CellSource.ALLOGENEIC


def pathway(source: CellSource, product: ProductType, steps=(), same=True, combined=False):
    return classify(
        source=source,
        product_type=product,
        processing=steps,
        same_surgical_procedure=same,
        combined_with_other_article=combined,
    ).pathway


def test_REG_1_unprocessed_autologous_marrow_is_not_an_hctp() -> None:
    assert pathway(AUTO, ProductType.BMA) is Pathway.NOT_HCTP
    assert pathway(AUTO, ProductType.BMA, combined=True) is Pathway.BIOLOGIC_351


def test_REG_2_the_same_surgical_procedure_only_with_rinsing() -> None:
    assert pathway(AUTO, ProductType.BMAC, [Step.WASHING]) is Pathway.SSP_EXEMPT
    concentrated = classify(
        source=AUTO,
        product_type=ProductType.BMAC,
        processing=[Step.CENTRIFUGATION, Step.CONCENTRATION],
        same_surgical_procedure=True,
    )
    assert concentrated.pathway is Pathway.NEEDS_REGULATORY_REVIEW
    assert "centrifugation" in concentrated.reasons[0]


def test_REG_3_a_361_product_needs_all_four_criteria() -> None:
    shipped = pathway(AUTO, ProductType.BMAC, [Step.CENTRIFUGATION], same=False)
    assert shipped is Pathway.HCTP_361
    fragmented = pathway(
        AUTO, ProductType.MICROFRAGMENTED_ADIPOSE, [Step.MICROFRAGMENTATION], same=False
    )
    assert fragmented is Pathway.BIOLOGIC_351
    assert pathway(AUTO, ProductType.BMAC, [Step.CENTRIFUGATION], same=False, combined=True) is (
        Pathway.BIOLOGIC_351
    )


def test_REG_4_isolating_svf_from_fat_is_more_than_minimal_manipulation() -> None:
    result = classify(
        source=AUTO,
        product_type=ProductType.ADIPOSE_SVF,
        processing=[Step.ENZYMATIC_DIGESTION],
        same_surgical_procedure=True,
    )
    assert result.pathway is Pathway.BIOLOGIC_351 and result.needs_ind_or_bla
    assert result.reasons[0].startswith("REG-4")


def test_REG_5_cord_cells_in_a_joint_need_an_ind_or_bla() -> None:
    assert pathway(ALLO, ProductType.UMBILICAL_CORD_MSC, [Step.THAWING], same=False) is (
        Pathway.BIOLOGIC_351
    )
    assert pathway(ALLO, ProductType.CORD_BLOOD, [], same=False) is Pathway.BIOLOGIC_351

"""Summaries: boilerplate-free descriptions, leads that respect sentences, languages, stories."""

from __future__ import annotations

from pathlib import Path

import pytest

from casewatch import summary as summary_module
from casewatch.clean import clean_description
from casewatch.summary import (
    detect_language,
    extract_article,
    item_summary,
    lead,
    needs_article,
    split_sentences,
    story_summary,
)

ARTICLES = Path(__file__).parent / "fixtures" / "articles"

# ---------------------------------------------------------------------------------------------
# clean_description


def test_markup_is_removed_and_entities_decoded() -> None:
    html = "<p>Lawyers &amp; activists met the <b>Office of the Prosecutor</b>&nbsp;today.</p>"

    assert clean_description(html) == "Lawyers & activists met the Office of the Prosecutor today."


def test_wordpress_footer_is_removed() -> None:
    html = (
        "<p>The submission argues that deportations from Tajikistan give the Court jurisdiction."
        '</p><p>The post <a href="https://blog.example/p/1">New submission to the ICC</a> '
        'appeared first on <a href="https://blog.example">Example Rights Blog</a>.</p>'
    )

    assert clean_description(html) == (
        "The submission argues that deportations from Tajikistan give the Court jurisdiction."
    )


def test_text_mentioning_a_post_office_keeps_its_body() -> None:
    text = (
        "The post office in Urumqi was closed. Officials gave no reason. "
        "The post Urumqi notes appeared first on Example Blog."
    )

    assert (
        clean_description(text) == "The post office in Urumqi was closed. Officials gave no reason."
    )


@pytest.mark.parametrize(
    "tail",
    ["Continue reading...", "Continue reading →", "Read more", "Read more »", "[…]", "[...]"],
)
def test_link_prompts_and_excerpt_marks_at_the_end_are_removed(tail: str) -> None:
    text = f"<p>The Tribunal found that birth-prevention measures amounted to genocide. {tail}</p>"

    assert clean_description(text) == (
        "The Tribunal found that birth-prevention measures amounted to genocide."
    )


def test_excerpt_mark_that_cuts_a_sentence_becomes_an_ellipsis() -> None:
    text = "The lawyers said the deportations from Tajikistan were [&hellip;]"

    assert clean_description(text) == "The lawyers said the deportations from Tajikistan were…"


def test_prompt_words_inside_a_sentence_are_kept() -> None:
    text = "Beijing says it will not subscribe to the Rome Statute, whatever others read more into."

    assert clean_description(text) == text


def test_share_and_subscribe_links_are_removed() -> None:
    html = (
        "<p>The Council voted against holding a debate on the assessment.</p>"
        '<div class="share-buttons"><a href="#">Facebook</a><a href="#">Twitter</a></div>'
        '<p><a href="https://x.example/share">Share on WhatsApp</a> | '
        '<a href="https://x.example/newsletter">Subscribe to our newsletter</a></p>'
        "<p>Sign up for our daily briefing</p>"
    )

    assert (
        clean_description(html) == "The Council voted against holding a debate on the assessment."
    )


def test_image_credits_and_captions_are_removed() -> None:
    html = (
        '<figure><img src="a.jpg"><figcaption>Protesters in front of the Court.</figcaption>'
        "</figure><p>Photo: Jane Roe/Example Agency</p>"
        "<p>Hundreds gathered outside the Court (Photo: Example Agency) on Monday.</p>"
    )

    assert clean_description(html) == "Hundreds gathered outside the Court on Monday."


def test_credit_run_into_plain_text_is_removed_when_a_separator_ends_it() -> None:
    text = "Photo: AFP via Example Images | Uyghur groups protested in Istanbul."

    assert clean_description(text) == "Uyghur groups protested in Istanbul."


def test_byline_at_the_start_is_removed() -> None:
    assert clean_description("<p>By Jane Doe</p><p>The appeal was heard today.</p>") == (
        "The appeal was heard today."
    )
    assert clean_description("By Jane Doe and Ali Kaya | The appeal was heard today.") == (
        "The appeal was heard today."
    )
    assert clean_description("By Jane Doe, Example News — The appeal was heard today.") == (
        "The appeal was heard today."
    )


@pytest.mark.parametrize(
    "text",
    ["By December the prosecutor had decided not to proceed.", "By December, it was over."],
)
def test_sentence_starting_with_by_is_not_a_byline(text: str) -> None:
    assert clean_description(text) == text


def test_credit_before_a_story_in_collapsed_text_keeps_the_story() -> None:
    text = "Photo: Jane Roe/Example Agency. Lawyers said the deportations breached the Statute."

    assert clean_description(text) == "Lawyers said the deportations breached the Statute."


def test_prompt_followed_by_more_sentences_is_not_dropped_whole() -> None:
    text = "Read more about it below. The Office received the submission on Monday."

    assert clean_description(text) == text


def test_repeated_title_at_the_start_is_removed() -> None:
    title = "Argentine court orders Uyghur genocide inquiry"
    html = (
        "<p><strong>Argentine Court Orders Uyghur Genocide Inquiry</strong></p>"
        "<p>The Federal Court of Criminal Cassation ordered an investigation.</p>"
    )

    assert clean_description(html, title=title) == (
        "The Federal Court of Criminal Cassation ordered an investigation."
    )
    assert clean_description(f"{title}: judges ruled on Thursday.", title=title) == (
        "judges ruled on Thursday."
    )


def test_text_that_only_shares_the_titles_first_words_is_kept() -> None:
    text = "Argentine court hears Uyghur case. Judges ruled on Thursday."

    assert clean_description(text, title="Argentine court orders Uyghur genocide inquiry") == text


# ---------------------------------------------------------------------------------------------
# sentences and leads

ABBREVIATED = (
    "The U.N. rights office said Dr. Smith met the No. 2 official of the U.S. mission on Monday. "
    "The meeting lasted two hours. Officials declined to say what was discussed."
)


def test_abbreviations_do_not_split_sentences() -> None:
    assert split_sentences(ABBREVIATED, language="en") == [
        "The U.N. rights office said Dr. Smith met the No. 2 official of the U.S. mission on Monday.",
        "The meeting lasted two hours.",
        "Officials declined to say what was discussed.",
    ]


def test_titles_before_names_do_not_split_spanish_sentences() -> None:
    text = "El Sr. Pérez presentó la denuncia. La Sra. Gómez la firmó."

    assert split_sentences(text, language="es") == [
        "El Sr. Pérez presentó la denuncia.",
        "La Sra. Gómez la firmó.",
    ]


def test_lead_takes_whole_sentences_within_the_budget() -> None:
    first_two = (
        "The U.N. rights office said Dr. Smith met the No. 2 official of the U.S. mission on "
        "Monday. The meeting lasted two hours."
    )

    assert lead(ABBREVIATED, language="en", budget=len(first_two)) == first_two
    assert lead(ABBREVIATED, language="en", budget=len(first_two) + 5) == first_two


def test_short_text_is_its_own_lead() -> None:
    assert lead("  The appeal was heard.  ", language="en") == "The appeal was heard."


@pytest.mark.parametrize("budget", [20, 37, 41, 60, 89])
def test_overlong_first_sentence_is_cut_at_a_word_boundary(budget: int) -> None:
    result = lead(ABBREVIATED, language="en", budget=budget)

    assert len(result) <= budget
    assert result.endswith("…")
    cut = result.removesuffix("…")
    assert ABBREVIATED.startswith(cut)
    assert ABBREVIATED[len(cut)] in " ,"  # the next character ends a word: nothing cut mid-word


def test_a_single_unbroken_token_is_cut_hard_within_the_budget() -> None:
    result = lead("x" * 500, language=None, budget=50)

    assert result == "x" * 49 + "…"


def test_lead_budget_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="budget must be at least 2"):
        lead(ABBREVIATED, language="en", budget=1)


def test_chinese_is_split_on_full_width_terminals_without_a_language() -> None:
    text = "检察官作出决定。流亡团体表示将提交新证据！他们会成功吗？还不知道。"

    assert split_sentences(text, language=None) == [
        "检察官作出决定。",
        "流亡团体表示将提交新证据！",
        "他们会成功吗？",
        "还不知道。",
    ]
    assert lead(text, language=None, budget=22) == "检察官作出决定。流亡团体表示将提交新证据！"


def test_overlong_chinese_sentence_is_cut_at_a_comma() -> None:
    text = "国际刑事法院检察官办公室表示，维吾尔人的来文不符合属地管辖条件。"

    assert lead(text, language="zh", budget=20) == "国际刑事法院检察官办公室表示…"


# ---------------------------------------------------------------------------------------------
# languages

MULTILINGUAL = {
    "fr": (
        "Des Ouïghours saisissent à nouveau la CPI",
        "Des organisations ouïghoures en exil ont demandé mardi à la Cour pénale internationale "
        "d'ouvrir une enquête. Selon M. Dupont, avocat des plaignants, les expulsions depuis le "
        "Tadjikistan relèvent de la compétence de la Cour. Le Bureau du Procureur n'a pas encore "
        "répondu à la demande, a indiqué un porte-parole à Genève.",
        2,
    ),
    "es": (
        "Argentina investigará los crímenes contra los uigures",
        "La justicia argentina ordenó abrir una investigación por los crímenes contra los uigures "
        "en China. El Sr. Pérez, abogado del Congreso Mundial Uigur, celebró la decisión de la "
        "Cámara Federal de Casación Penal. Según la denuncia, se trata de genocidio y crímenes de "
        "lesa humanidad cometidos en la región de Xinjiang.",
        2,
    ),
    "de": (
        "Uiguren wenden sich erneut an den Strafgerichtshof",
        "Exil-Uiguren fordern den Internationalen Strafgerichtshof erneut zu Ermittlungen auf. "
        "Nach Angaben von Dr. Müller, einem Anwalt der Gruppen, wurden z. B. Uiguren aus "
        "Tadschikistan nach China abgeschoben. Die Anklagebehörde in Den Haag hat sich zu dem "
        "Antrag bisher nicht geäußert, wie ein Sprecher am Dienstag mitteilte.",
        2,
    ),
    "tr": (
        "Uygurlar UCM'ye yeniden başvurdu",
        "Sürgündeki Uygur grupları, Uluslararası Ceza Mahkemesi'nden Çin hakkında soruşturma "
        "açmasını istedi. Avukatlar, Tacikistan'dan yapılan sınır dışı etmelerin mahkemenin yetki "
        "alanına girdiğini savunuyor. Dr. Yılmaz'a göre yeni deliller de sunuldu. Savcılık ofisi "
        "henüz bir açıklama yapmadı.",
        2,
    ),
    "zh": (
        "维吾尔团体再次要求国际刑事法院调查",
        "流亡维吾尔团体周二再次要求国际刑事法院对中国展开调查。律师表示，从塔吉克斯坦遣返维吾尔人"
        "的行为属于法院的管辖范围。检察官办公室尚未对此作出回应。",
        2,
    ),
}


@pytest.mark.parametrize("code", sorted(MULTILINGUAL))
def test_items_are_summarised_in_their_own_language(code: str) -> None:
    title, description, sentences_in_lead = MULTILINGUAL[code]

    summary, language = item_summary(title, description)

    assert language == code
    expected = split_sentences(description, language=code)[:sentences_in_lead]
    joiner = "" if code == "zh" else " "
    assert summary == joiner.join(expected)
    assert len(summary) <= 280


@pytest.mark.parametrize("code", sorted(MULTILINGUAL))
def test_language_detection_names_the_iso_639_1_code(code: str) -> None:
    _, description, _ = MULTILINGUAL[code]

    assert detect_language(description) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("国際刑事裁判所の検察官は新たな証拠を受け取ったと発表した", "ja"),
        ("국제형사재판소 검사는 위구르 단체의 새로운 증거를 받았다고 밝혔다", "ko"),
        ("新疆维吾尔自治区高级人民法院发布年度工作报告.", "zh"),
    ],
)
def test_chinese_japanese_and_korean_are_told_apart_by_their_scripts(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_titles_before_names_do_not_end_english_sentences() -> None:
    text = "Prof. Adrian Zenz and Mr. Dixon spoke on Tuesday. Both called for an investigation."

    assert split_sentences(text, language="en") == [
        "Prof. Adrian Zenz and Mr. Dixon spoke on Tuesday.",
        "Both called for an investigation.",
    ]


def test_language_of_very_short_text_is_unknown() -> None:
    assert detect_language("ICC") is None
    assert detect_language("Uyghur ICC") is None
    assert detect_language("") is None


def test_declared_language_is_used_and_normalised() -> None:
    _, description, _ = MULTILINGUAL["fr"]

    assert item_summary("Titre", description, language="fr-FR")[1] == "fr"


# ---------------------------------------------------------------------------------------------
# articles


def test_thin_summary_needs_the_article() -> None:
    title = "Exiled Uyghur groups file fresh evidence with ICC prosecutor"

    assert needs_article("")
    assert needs_article("Read the story.")
    assert needs_article(title, title=title)
    assert needs_article("exiled uyghur groups file fresh evidence", title=title)
    assert not needs_article(MULTILINGUAL["fr"][1], title=title)


def test_article_main_text_is_extracted_without_navigation_ads_or_comments() -> None:
    html = (ARTICLES / "news_article.html").read_bytes()

    text = extract_article(html, url="https://daily.example/world/uyghur-icc")

    assert text is not None
    assert "handed the prosecutor of the International Criminal Court a third dossier" in text
    assert "assessed in the ordinary way" in text
    for noise in (
        "Politics",
        "cheap flights",
        "headphones",
        "mark my words",
        "weather",
        "Copyright",
    ):
        assert noise not in text


def test_french_blog_post_is_extracted_without_sharing_or_comments() -> None:
    html = (ARTICLES / "blog_article_fr.html").read_bytes()

    text = extract_article(html, url="https://carnet.example/2022/06/cpi")

    assert text is not None
    assert text.count("\n") >= 2  # paragraphs are kept apart
    assert "faute de compétence territoriale" in text
    for noise in ("Partager", "restaurant", "tarte aux pommes", "billets de train", "Accueil"):
        assert noise not in text


def test_page_without_article_gives_none() -> None:
    assert extract_article(b"", url="https://x.example/") is None
    assert (
        extract_article(b"<html><body><nav><a href='/'>Home</a></nav></body></html>", url="")
        is None
    )


def test_thin_description_is_replaced_by_the_articles_lead() -> None:
    title = "Exiled Uyghur groups file fresh evidence with ICC prosecutor"
    html = (ARTICLES / "news_article.html").read_bytes()

    summary, language = item_summary(
        title, f"<p>{title}</p>", article_html=html, url="https://daily.example/world/uyghur-icc"
    )

    assert language == "en"
    assert summary.startswith("Lawyers for two exiled Uyghur organisations have handed")
    assert not summary.startswith(title)
    assert len(summary) <= 280


def test_rich_description_is_kept_even_with_an_article_at_hand() -> None:
    title, description, _ = MULTILINGUAL["fr"]
    html = (ARTICLES / "news_article.html").read_bytes()

    summary, _ = item_summary(title, description, article_html=html)

    assert summary.startswith("Des organisations ouïghoures en exil")


# ---------------------------------------------------------------------------------------------
# story summary


def test_story_summary_picks_the_most_central_lead_not_the_first() -> None:
    leads = [
        "Watch: scenes outside the embassy in Bangkok on Thursday evening.",
        "Thailand deported 40 Uyghur men to China on Thursday, defying warnings from UN human "
        "rights experts that the men faced torture.",
        "UN human rights experts had warned that the Uyghur men faced torture and persecution "
        "if they were returned to China.",
        "Thailand said the 40 men were deported to China on Thursday after Beijing gave "
        "assurances about their safety.",
    ]

    assert story_summary(leads) == 1


def test_story_summary_breaks_ties_by_the_more_informative_lead() -> None:
    leads = [
        "Court hears Uyghur case.",
        "Court hears Uyghur case as lawyers present deportation evidence from Tajikistan.",
    ]

    assert story_summary(leads) == 1
    assert story_summary(list(reversed(leads))) == 0


def test_story_summary_of_one_lead_is_that_lead() -> None:
    assert story_summary(["Only one outlet reported it."]) == 0


def test_story_summary_of_no_leads_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one lead"):
        story_summary([])


def test_story_summary_chooses_the_same_lead_whether_outlets_came_one_by_one_or_at_once() -> None:
    leads = [
        "Thailand deported 40 Uyghur men to China on Thursday.",
        "Watch: scenes outside the embassy in Bangkok on Thursday evening.",
        "Thailand deported 40 Uyghur men to China, defying warnings from UN experts.",
        "Rights groups condemned the deportation of Uyghur men from Thailand.",
        "The UN human rights office said the deportation of 40 Uyghur men breaks the law.",
        "Bangkok traffic was heavy on Thursday.",
    ]
    one_by_one = [story_summary(leads[: n + 1]) for n in range(len(leads))]
    changed = [*leads[:3], "Thailand sent 40 Uyghur men back to China.", *leads[4:]]
    after_an_edit = story_summary(changed)  # an article read replaced a lead in the middle

    summary_module._totals_cache.clear()  # the same questions, nothing remembered
    assert one_by_one == [story_summary(leads[: n + 1]) for n in range(len(leads))]
    assert after_an_edit == story_summary(changed)
    assert "deport" in leads[one_by_one[-1]]  # not the traffic, not the pictures

"""Every script and every charset through the whole pipeline, on SQLite and PostgreSQL:
long articles written without spaces are loaded (not rejected as too short), and pages
whose HTTP header lies about their charset are read as the UTF-8 they are."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import select

from etl.config import load_sources
from etl.pipeline import ingest
from etl.warehouse.schema import articles, ingest_runs

# Original articles: "The city library will open on Sundays from next month".
LONG_ARTICLES = {
    "ja": ("市立図書館、日曜日も開館へ", [
        "市立図書館は来月から日曜日も開館すると発表しました。",
        "学生や働く人から、週末に本を借りられないという声が多く寄せられていました。",
        "新しい開館時間は午前十時から午後五時までで、閲覧室と子ども向けの読み聞かせコーナーも"
        "利用できます。",
        "図書館は人手を確保するため、地域のボランティア団体と協力して受付の担当者を募集しています。",
        "市の担当者は、一年間の試行期間の利用者数を見て、平日の夜間延長も検討したいと話しています。",
        "開館に合わせて、駅前の臨時駐輪場も日曜日に開放される予定です。",
    ]),
    "zh": ("市立图书馆星期日也将开放", [
        "市立图书馆宣布，从下个月起星期日也将对外开放。",
        "许多学生和上班族反映，周末无法借书，给学习和生活带来不便。",
        "新的开放时间为上午十点至下午五点，阅览室和儿童故事角也可以正常使用。",
        "为了解决人手不足的问题，图书馆正与社区志愿者组织合作招募服务人员。",
        "市政府负责人表示，将根据一年试行期的读者人数，考虑延长工作日晚间的开放时间。",
        "配合新的开放安排，车站前的临时自行车停放点星期日也将开放。",
    ]),
    "th": ("ห้องสมุดเมืองเปิดวันอาทิตย์", [
        "ห้องสมุดเมืองประกาศว่าจะเปิดให้บริการทุกวันอาทิตย์ตั้งแต่เดือนหน้าเป็นต้นไป",
        "นักเรียนและคนทำงานจำนวนมากร้องเรียนว่าไม่สามารถยืมหนังสือในวันหยุดสุดสัปดาห์ได้",
        "เวลาเปิดใหม่คือตั้งแต่สิบโมงเช้าถึงห้าโมงเย็น และห้องอ่านหนังสือกับมุมเล่านิทานสำหรับเด็ก"
        "ก็เปิดให้ใช้ได้เช่นกัน",
        "ห้องสมุดกำลังร่วมมือกับกลุ่มอาสาสมัครในชุมชนเพื่อรับสมัครเจ้าหน้าที่ประจำเคาน์เตอร์",
        "เจ้าหน้าที่ของเมืองกล่าวว่าจะพิจารณาขยายเวลาเปิดในตอนเย็นของวันธรรมดาหลังจากดูจำนวน"
        "ผู้ใช้ในช่วงทดลองหนึ่งปี",
    ]),
}


def html_page(language: str, title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
            f"<title>{title}</title></head><body><article><h1>{title}</h1>{body}</article>"
            "</body></html>")


def run_row(warehouse, run_id: str) -> dict:
    with warehouse.engine.connect() as conn:
        return dict(conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                                 ).mappings().one())


def test_long_articles_without_spaces_are_loaded_not_rejected(warehouse, tmp_path: Path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for language, (title, paragraphs) in LONG_ARTICLES.items():
        (folder / f"{language}.html").write_text(html_page(language, title, paragraphs),
                                                 encoding="utf-8")
    sources = tmp_path / "sources.yml"
    sources.write_text(f"sources:\n- {{name: asia, kind: files, location: '{folder}'}}\n")
    ingest(load_sources(sources), warehouse, run_id="scripts-1")
    run = run_row(warehouse, "scripts-1")
    assert (run["discovered"], run["loaded"], run["rejected"]) == (3, 3, 0), run
    with warehouse.engine.connect() as conn:
        rows = {r.language: r for r in conn.execute(
            select(articles.c.language, articles.c.word_count, articles.c.text))}
    assert set(rows) == {"ja", "zh", "th"}
    for language, row in rows.items():
        # Runs of word characters (the old count) would have been far under the default 50.
        assert len(row.text.split()) < 20, language
        assert row.word_count >= 50, (language, row.word_count)


FRENCH = {
    "lying": ("La gare rouvre après les travaux", [
        "La gare centrale a rouvert lundi après dix-huit mois de travaux, et les voyageurs "
        "ont découvert un hall élargi, des quais rehaussés et une verrière entièrement "
        "rénovée.",
        "Les commerçants du quartier espèrent que le retour des trains régionaux ramènera "
        "des clients, après une année difficile où la place était fermée à la circulation.",
        "La région a financé la moitié du chantier ; l'autre moitié vient de l'État et de "
        "l'exploitant, qui promet des trains toutes les vingt minutes aux heures de pointe.",
    ]),
    "truthful": ("Le marché couvert fête ses cent ans", [
        "Le marché couvert de la vieille ville célèbre samedi son centenaire avec un "
        "déjeuner géant servi sous la charpente métallique classée l'été dernier.",
        "Les maraîchers, fromagers et bouchers présents depuis trois générations "
        "raconteront l'histoire du lieu aux élèves des écoles voisines toute la semaine.",
        "Une exposition de photographies anciennes, prêtées par les familles du quartier, "
        "restera ouverte jusqu'à la fin du mois dans la galerie à l'étage.",
    ]),
    "mojibake": ("Les pompiers reçoivent un nouveau bateau", [
        "Les pompiers du port ont reçu mardi un bateau-pompe capable d'intervenir sur les "
        "péniches et les entrepôts riverains, une première depuis quarante ans.",
        "L'équipage, formé pendant l'hiver, pourra atteindre l'estuaire en moins d'un quart "
        "d'heure, contre près d'une heure avec l'ancien matériel prêté par la capitainerie.",
        "La commune a payé le bateau grâce à une subvention européenne et à un emprunt "
        "remboursé sur dix ans, selon le maire adjoint chargé de la sécurité.",
    ]),
}


def french_page(title: str, paragraphs: list[str], charset: str | None) -> str:
    meta = f"<meta charset='{charset}'>" if charset else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='fr'><head>{meta}<title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def test_http_header_charset_truthful_lying_and_double_encoded(warehouse, tmp_path: Path,
                                                                httpserver: HTTPServer):
    # The header declares windows-1252 over UTF-8 bytes (lying), windows-1252 over
    # windows-1252 bytes (truthful), and UTF-8 over text that was double-encoded upstream.
    title, paragraphs = FRENCH["lying"]
    httpserver.expect_request("/news/lying").respond_with_data(
        french_page(title, paragraphs, None).encode("utf-8"),
        content_type="text/html; charset=windows-1252")
    title, paragraphs = FRENCH["truthful"]
    httpserver.expect_request("/news/truthful").respond_with_data(
        french_page(title, paragraphs, None).encode("cp1252"),
        content_type="text/html; charset=windows-1252")
    title, paragraphs = FRENCH["mojibake"]
    garbled = [p.encode("utf-8").decode("cp1252", errors="replace") for p in paragraphs]
    httpserver.expect_request("/news/mojibake").respond_with_data(
        french_page(title, garbled, "utf-8").encode("utf-8"),
        content_type="text/html; charset=utf-8")
    base = httpserver.url_for("").rstrip("/")
    items = "".join(f"<item><title>{slug}</title><link>{base}/news/{slug}</link></item>"
                    for slug in FRENCH)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Ville</title>"
        f"<link>{base}</link>{items}</channel></rss>", content_type="application/rss+xml")
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 2, retries: 0}\n"
        f"sources:\n- {{name: ville, kind: feed, location: '{base}/feed.xml', language: fr}}\n")
    ingest(load_sources(sources), warehouse, run_id="charsets-1")
    run = run_row(warehouse, "charsets-1")
    assert (run["discovered"], run["loaded"]) == (3, 3), run
    with warehouse.engine.connect() as conn:
        rows = {r.url.rsplit("/", 1)[1]: r for r in conn.execute(
            select(articles.c.url, articles.c.title, articles.c.text))}
    for slug, (title, paragraphs) in FRENCH.items():
        assert rows[slug].title == title, slug
        assert paragraphs[0] in rows[slug].text, slug
        assert "Ã" not in rows[slug].text and "\ufffd" not in rows[slug].text
    [extract] = [s for s in run["stage_stats"] if s["stage"] == "extract"]
    notes = extract["notes"]
    assert notes["charset_utf8_over_declared"] == 1
    assert notes["charset_declared"] == 2
    assert notes["text_repaired"] == 1

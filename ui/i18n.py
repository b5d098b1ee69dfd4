"""Interface strings in English and Traditional Chinese, and picking one from the browser.

Only the interface is translated; article text and answers are always shown in the
script they were written in.
"""

from __future__ import annotations

from typing import Any

EN = "en"
ZH = "zh-Hant"

STRINGS: dict[str, dict[str, str]] = {
    EN: {
        "title": "News Q&A: answers with sources",
        "tab_chat": "Chat",
        "tab_corpus": "Articles",
        "tab_inspect": "Retrieval inspector",
        "question": "Question",
        "placeholder": "Ask about the articles, e.g. 川普透過哪個平台宣佈允許H200出口？",
        "ask": "Ask",
        "clear": "Clear chat",
        "chat_label": "Conversation",
        "chat_empty": "Ask a question about the news articles. Answers quote the articles "
        "and cite them as [1], [2]; click a marker to read the source.",
        "sources": "Sources",
        "sources_empty": "The sources of an answer appear here. Click a [n] marker to open one.",
        "sources_for": "Sources for: {question}",
        "possibly_related": "Possibly related passages",
        "refused": "No answer found in the articles",
        "copy": "Copy answer",
        "copied": "Copied",
        "open_link": "Open the article",
        "unverified": "citation not verified",
        "claim_flag": "Not supported by its source ({kind}): {reason}",
        "kind_negation": "negation differs",
        "kind_modality": "more or less certain than the source",
        "kind_degree": "degree differs",
        "kind_antonym": "says the opposite",
        "kind_entity": "a name the source does not give",
        "kind_number": "number differs",
        "kind_date": "date differs",
        "kind_unsupported wording": "not in the source",
        "kind_instruction": "the source addresses the model",
        "no_date": "no date",
        "no_outlet": "unknown outlet",
        "warning": "Note",
        "error": "Cannot ask this question: {error}",
        "err_empty": "the question is empty.",
        "err_long": "the question is {n:,} characters long; the limit is {limit:,}.",
        "err_failed": "something went wrong while answering ({error}). Please try again.",
        "feedback_thanks": "Thanks: your rating was saved. You can add a comment below.",
        "feedback_comment": "Comment on the rated answer (optional)",
        "feedback_send": "Send comment",
        "feedback_saved": "Comment saved.",
        "feedback_none": "Rate an answer with the thumbs first.",
        "status": "Embedder: {embedder} · Retrieval: {retrieval} · LLM: {llm} · "
        "{documents} documents, {chunks} chunks · Last ingest: {last}",
        "never": "never",
        "llm_none": "extractive: no LLM configured",
        "search_articles": "Search titles and outlets",
        "articles": "Articles in the store",
        "col_title": "Title",
        "col_outlet": "Outlet",
        "col_date": "Date",
        "col_chunks": "Chunks",
        "col_id": "ID",
        "delete_pick": "Article (to delete or replace)",
        "delete": "Delete article",
        "deleted": "Deleted “{title}” and its {n} chunks.",
        "delete_none": "Pick an article to delete first.",
        "delete_missing": "That article is no longer in the store.",
        "upload": "Upload articles (.txt, .html, .htm, .md, .jsonl; up to {mb:g} MB each)",
        "ingest": "Add to the store",
        "ingest_none": "Choose one or more files first.",
        "ingest_done": "{added} added, {updated} updated, {unchanged} unchanged, "
        "{duplicates} duplicates, {failed} failed. The store now holds {documents} "
        "documents, {chunks} chunks.",
        "ingest_progress": "Ingesting",
        "file_type": "{name}: type not accepted (allowed: {allowed}).",
        "file_size": "{name}: {mb:.1f} MB is over the {limit:g} MB limit.",
        "file_binary": "{name}: looks like a binary file, not text.",
        "file_empty": "{name}: the file is empty.",
        "file_failed": "{name}: {error}",
        "file_gone": "{name}: the uploaded file is gone; upload it again.",
        "replace": "Replace the selected article with the upload",
        "upload_hint": "Uploaded files are always added as new articles, even when one has "
        "the name of a file already stored. To replace an article: pick it above, choose "
        "one file, then “Replace the selected article with the upload”.",
        "queued": "Queued: {names}. Progress is shown below; you can keep asking "
        "questions meanwhile.",
        "queue_full": "Too many uploads are waiting ({limit}); try again when one has finished.",
        "job_starting": "starting…",
        "job_waiting": "waiting: {ahead} upload(s) ahead",
        "job_running": "adding: {done:,} of {total:,} read",
        "job_failed": "the upload stopped ({error}). Articles stored before that are kept "
        "and nothing half-written is shown; upload the file again to add the rest.",
        "busy": "An upload is being added to the store; try again when it has finished.",
        "replace_none": "Pick the article to replace first.",
        "replace_one": "Replace takes exactly one file holding one article.",
        "replaced": "Replaced “{old}” with “{new}”.",
        "replace_same": "The upload is the same article as “{title}”: nothing changed.",
        "replace_twin": "Nothing replaced: the upload is already stored as “{other}”; "
        "“{title}” was kept.",
        "replace_kept": "Nothing replaced: the upload could not be stored ({reason}); "
        "“{title}” was kept.",
        "replace_many": "Nothing replaced: the upload gave {n} articles, not one; "
        "“{title}” was kept.",
        "replace_gone": "The article to replace is no longer in the store; the upload was added.",
        "comment_long": "The comment is {n:,} characters long; the limit is {limit:,}. "
        "Please shorten it.",
        "inspect_query": "Query",
        "inspect_k": "Passages",
        "inspect_run": "Search",
        "inspect_hint": "Ranked passages with their dense (cosine), lexical (BM25) and "
        "final fused scores.",
        "col_rank": "Rank",
        "col_score": "Fused",
        "col_dense": "Dense",
        "col_lexical": "Lexical",
        "col_passage": "Passage",
        "examples": "Example questions",
    },
    ZH: {
        "title": "新聞問答：附來源的回答",
        "tab_chat": "對話",
        "tab_corpus": "文章",
        "tab_inspect": "檢索檢視",
        "question": "問題",
        "placeholder": "針對文章提問，例如：川普透過哪個平台宣佈允許H200出口？",
        "ask": "提問",
        "clear": "清除對話",
        "chat_label": "對話",
        "chat_empty": "針對新聞文章提問。回答會引用文章並標註 [1]、[2]；點選標註即可閱讀來源。",
        "sources": "來源",
        "sources_empty": "回答的來源會顯示在這裡。點選 [n] 標註即可開啟。",
        "sources_for": "來源：{question}",
        "possibly_related": "可能相關的段落",
        "refused": "文章中找不到答案",
        "copy": "複製回答",
        "copied": "已複製",
        "open_link": "開啟原文",
        "unverified": "引用未經驗證",
        "claim_flag": "與來源不符（{kind}）：{reason}",
        "kind_negation": "否定與來源相反",
        "kind_modality": "確定程度與來源不同",
        "kind_degree": "程度與來源不同",
        "kind_antonym": "與來源意思相反",
        "kind_entity": "來源未提及的名稱",
        "kind_number": "數字與來源不同",
        "kind_date": "日期與來源不同",
        "kind_unsupported wording": "來源中沒有這些內容",
        "kind_instruction": "來源是對模型的指示",
        "no_date": "無日期",
        "no_outlet": "來源不明",
        "warning": "注意",
        "error": "無法處理這個問題：{error}",
        "err_empty": "問題是空的。",
        "err_long": "問題長達 {n:,} 個字元，上限為 {limit:,}。",
        "err_failed": "回答時發生錯誤（{error}），請再試一次。",
        "feedback_thanks": "謝謝，評分已儲存。可在下方補充意見。",
        "feedback_comment": "對已評分回答的意見（選填）",
        "feedback_send": "送出意見",
        "feedback_saved": "意見已儲存。",
        "feedback_none": "請先用讚或倒讚評分一則回答。",
        "status": "嵌入模型：{embedder}・檢索：{retrieval}・語言模型：{llm}・"
        "{documents} 篇文章、{chunks} 個段落・最近匯入：{last}",
        "never": "尚未匯入",
        "llm_none": "擷取式：未設定語言模型",
        "search_articles": "搜尋標題與媒體",
        "articles": "資料庫中的文章",
        "col_title": "標題",
        "col_outlet": "媒體",
        "col_date": "日期",
        "col_chunks": "段落數",
        "col_id": "編號",
        "delete_pick": "文章（要刪除或取代的）",
        "delete": "刪除文章",
        "deleted": "已刪除「{title}」及其 {n} 個段落。",
        "delete_none": "請先選擇要刪除的文章。",
        "delete_missing": "這篇文章已不在資料庫中。",
        "upload": "上傳文章（.txt、.html、.htm、.md、.jsonl；每個檔案上限 {mb:g} MB）",
        "ingest": "加入資料庫",
        "ingest_none": "請先選擇一個或多個檔案。",
        "ingest_done": "新增 {added}、更新 {updated}、未變更 {unchanged}、重複 {duplicates}、"
        "失敗 {failed}。資料庫現有 {documents} 篇文章、{chunks} 個段落。",
        "ingest_progress": "匯入中",
        "file_type": "{name}：不接受此檔案類型（允許：{allowed}）。",
        "file_size": "{name}：{mb:.1f} MB 超過 {limit:g} MB 上限。",
        "file_binary": "{name}：看起來是二進位檔，不是文字檔。",
        "file_empty": "{name}：檔案是空的。",
        "file_failed": "{name}：{error}",
        "file_gone": "{name}：上傳的檔案已不存在，請重新上傳。",
        "replace": "以上傳的檔案取代所選文章",
        "upload_hint": "上傳的檔案一律新增為新文章，即使檔名與已儲存的檔案相同。"
        "若要取代文章：在上方選擇文章、選擇一個檔案，再按「以上傳的檔案取代所選文章」。",
        "queued": "已加入佇列：{names}。進度顯示於下方；期間仍可繼續提問。",
        "queue_full": "等待中的上傳過多（{limit} 個）；請待其中一個完成後再試。",
        "job_starting": "即將開始…",
        "job_waiting": "等待中：前面還有 {ahead} 個上傳",
        "job_running": "匯入中：已讀取 {done:,}／{total:,}",
        "job_failed": "匯入中斷（{error}）。中斷前已儲存的文章會保留，未完成的部分不會顯示；"
        "請重新上傳檔案以加入其餘文章。",
        "busy": "正在匯入上傳的檔案；請待完成後再試。",
        "replace_none": "請先選擇要取代的文章。",
        "replace_one": "取代時只能上傳一個檔案，且其中只有一篇文章。",
        "replaced": "已將「{old}」取代為「{new}」。",
        "replace_same": "上傳的內容與「{title}」是同一篇文章，未做任何變更。",
        "replace_twin": "未取代：上傳的內容已儲存為「{other}」；「{title}」保留不變。",
        "replace_kept": "未取代：上傳的檔案無法儲存（{reason}）；「{title}」保留不變。",
        "replace_many": "未取代：上傳的檔案產生 {n} 篇文章而非一篇；「{title}」保留不變。",
        "replace_gone": "要取代的文章已不在資料庫中；上傳的檔案已新增。",
        "comment_long": "意見長達 {n:,} 個字元，上限為 {limit:,}，請縮短。",
        "inspect_query": "查詢",
        "inspect_k": "段落數",
        "inspect_run": "搜尋",
        "inspect_hint": "依排名列出段落，以及其向量（餘弦）、詞彙（BM25）與最終融合分數。",
        "col_rank": "排名",
        "col_score": "融合",
        "col_dense": "向量",
        "col_lexical": "詞彙",
        "col_passage": "段落",
        "examples": "範例問題",
    },
}

# Locales the browser may report; every Chinese one gets the Traditional interface
# (the interface has no Simplified strings, and article text is never converted).
_GRADIO_LOCALES = {
    "en": EN,
    "zh": ZH,
    "zh-TW": ZH,
    "zh-HK": ZH,
    "zh-MO": ZH,
    "zh-CN": ZH,
    "zh-SG": ZH,
    "zh-Hant": ZH,
    "zh-Hans": ZH,
}


def lang_from_accept(header: str | None) -> str:
    """The interface language for an Accept-Language header: zh-Hant for any Chinese
    preference ranked above English, else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return ZH
        if tag.startswith("en"):
            return EN
    return EN


def t(lang: str, key: str, **values: Any) -> str:
    """The interface string ``key`` in ``lang`` (English when missing), formatted."""
    text = STRINGS.get(lang, STRINGS[EN]).get(key) or STRINGS[EN][key]
    return text.format(**values) if values else text


def gradio_i18n(**values: Any):  # type: ignore[no-untyped-def]
    """A ``gr.I18n`` so static labels follow the browser language in the frontend;
    ``values`` fill the placeholders of labels such as the upload size limit."""
    import gradio as gr

    def filled(lang: str) -> dict[str, str]:
        out = {}
        for key, text in STRINGS[lang].items():
            try:
                out[key] = text.format(**values)
            except (KeyError, IndexError, ValueError):
                out[key] = text  # a per-request string with other placeholders
        return out

    tables = {lang: filled(lang) for lang in STRINGS}
    return gr.I18n(**{locale: tables[lang] for locale, lang in _GRADIO_LOCALES.items()})

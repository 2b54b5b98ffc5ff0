// Texts in Indonesian (the default) and English; the choice is kept in localStorage.
// t(key, {name: value}) fills {name} placeholders.

const storageKey = 'malpro.lang';

const texts = {
  id: {
    skip_to_content: 'Langsung ke isi', brand_sub: 'Beli Produk Lokal · Kota Malang', loading: 'Memuat…',
    nav_label: 'Menu utama', nav_dashboard: 'Dasbor kota', nav_operator: 'Meja operator', nav_auditor: 'Auditor',
    sign_out: 'Keluar', sign_in: 'Masuk', signin_title: 'Masuk ke konsol Malpro', api_token: 'Token API',
    token_help: 'Token diberikan oleh admin Diskominfo. Sesi disimpan dalam cookie yang aman; token tidak disimpan di peramban.',
    token_wrong: 'Token tidak dikenal. Periksa lalu coba lagi.', signin_failed: 'Gagal masuk',
    session_ended: 'Sesi berakhir. Silakan masuk lagi.',
    live_connected: 'Langsung', live_reconnecting: 'Menyambung ulang…',
    not_allowed_title: 'Tidak diizinkan', not_allowed: 'Peran {role} tidak dapat membuka halaman ini.',
    no_rows: 'Tidak ada data.', load_failed: 'Gagal memuat', refresh: 'Muat ulang', saved: 'Tersimpan',
    refused: 'Ditolak', not_served_yet: 'Server belum menyediakan angka ini (—).', show_table: 'Tampilkan tabel',
    download_csv: 'Unduh CSV', previous_page: 'Sebelumnya', next_page: 'Berikutnya', first_page: 'Halaman pertama',
    showing_of: 'Menampilkan {from}–{to} dari {total}', updated_at: 'Diperbarui {time}',
    dashboard_title: 'Dasbor Beli Produk Lokal', month: 'Bulan', headline_figures: 'Angka utama',
    fig_asn: 'ASN terdaftar', fig_compliant: 'ASN patuh', fig_compliance_percent: 'Tingkat kepatuhan',
    fig_committed: 'Belanja tercatat', fig_shortfall: 'Kekurangan belanja', fig_spend: 'Perputaran uang',
    fig_purchases: 'Transaksi', fig_local_share: 'Belanja di kelurahan sendiri', fig_merchants: 'UMKM dengan penjualan',
    fig_top_decile: 'Porsi 10% UMKM teratas', fig_gini: 'Rasio Gini (konsentrasi)',
    compliance_agency: 'Kepatuhan per OPD', compliance_rank: 'Kepatuhan per golongan',
    col_agency: 'OPD', col_rank: 'Golongan', col_asn: 'ASN', col_compliant: 'Patuh', col_rate: 'Kepatuhan (%)',
    col_committed: 'Belanja', col_shortfall: 'Kekurangan', col_minimum: 'Minimum', col_nip: 'NIP', col_name: 'Nama',
    shortfalls: 'Daftar ASN yang belum memenuhi minimum', agency_filter: 'OPD', all_agencies: 'Semua OPD',
    circulation_kecamatan: 'Perputaran per kecamatan', circulation_kelurahan: 'Perputaran per kelurahan',
    circulation_kelurahan_top: '15 kelurahan teratas', col_kecamatan: 'Kecamatan', col_kelurahan: 'Kelurahan',
    col_spend: 'Belanja (Rp)', col_purchases: 'Transaksi', col_share: 'Porsi', col_date: 'Tanggal',
    daily_trend: 'Tren belanja harian', payment_mix: 'Cara bayar', col_channel: 'Cara bayar',
    channel_cod: 'COD (tunai)', channel_qris: 'QRIS', channel_va: 'Virtual account', channel_receipt: 'Struk manual',
    top_umkm: 'UMKM teratas dan konsentrasi', col_umkm: 'UMKM',
    operator_title: 'Meja operator', receipt_queue: 'Antrean persetujuan struk', col_receipt: 'Struk',
    col_shop: 'Toko', col_amount: 'Jumlah', col_purchase_date: 'Tanggal beli', col_submitted: 'Dikirim',
    col_status: 'Status', col_reason: 'Alasan', status_submitted: 'Menunggu', status_approved: 'Disetujui',
    status_rejected: 'Ditolak', receipt_photo_alt: 'Foto struk {shop}, {amount}', approve: 'Setujui',
    reject: 'Tolak', reject_reason: 'Alasan penolakan', reason_required: 'Isi alasan penolakan dahulu.',
    apply_filter: 'Terapkan', queue_empty: 'Antrean kosong.', pending_payments: 'Pembayaran tertunda',
    col_payment: 'Pembayaran', col_bank_reference: 'Referensi bank', col_age: 'Umur', col_expires: 'Kedaluwarsa',
    exceptions: 'Pengecualian (uang yang harus dikembalikan)', exceptions_open: '{open} terbuka, total {amount}',
    col_cause: 'Sebab', col_action: 'Tindakan', col_resolution: 'Penyelesaian', col_note: 'Catatan',
    resolve: 'Selesaikan', resolution_refunded: 'Sudah dikembalikan', resolution_explained: 'Dijelaskan',
    note_required: 'Isi catatan dahulu.', settlement: 'Penyelesaian dana (settlement)',
    outstanding: 'Belum diselesaikan', outstanding_total: '{payments} pembayaran: bruto {gross}, potongan {fee}, neto {net}',
    col_payments: 'Pembayaran', col_gross: 'Bruto', col_fee: 'Potongan', col_net: 'Neto', col_refunds: 'Pengembalian',
    close_a_day: 'Tutup hari kerja', business_date: 'Hari kerja', close_day: 'Tutup hari ini',
    view_day: 'Lihat', day_closed: 'Hari ditutup; berkas dan hash-nya tercatat.', closed_days: 'Hari yang sudah ditutup',
    batch_totals: '{date}: {payments} pembayaran, bruto {gross}, potongan {fee}, pengembalian {refunds}, neto {net}',
    settlement_merchants: 'Per UMKM', reconciliation: 'Rekonsiliasi rekening koran',
    statement_file: 'Berkas rekening koran (camt.053, MT940, CSV)', statement_format: 'Format',
    format_detect: 'Deteksi otomatis', upload: 'Unggah dan cocokkan', choose_file: 'Pilih berkas dahulu.',
    statement_reconciled: 'Rekening koran dicocokkan.', open_runs: 'Rekonsiliasi dengan selisih terbuka',
    col_statement: 'Rekening koran', run: 'Putaran', col_matched: 'Cocok', col_unresolved: 'Belum selesai',
    col_completed: 'Selesai', discrepancies: 'Selisih', col_kind: 'Jenis', col_reference: 'Referensi',
    col_statement_amount: 'Di bank', col_ledger_amount: 'Di buku besar',
    run_counts: 'Cocok {matched}; tidak ada di buku besar {missing_in_ledger}; tidak ada di bank {missing_at_bank}; beda jumlah {amount_mismatch}',
    action_explain: 'Jelaskan', action_record_payment: 'Catat pembayaran',
    auditor_title: 'Auditor', chain_and_checks: 'Rantai hash dan pemeriksaan', chain_head_sequence: 'Urutan terakhir',
    chain_head_hash: 'Hash terakhir', checkpoint_signed: 'Checkpoint bertanda tangan terakhir',
    checkpoint_text: '{size} peristiwa, {origin}; ditandatangani: {signers}', checkpoint_none: 'Belum ada checkpoint',
    checkpoint_root: 'Akar pohon Merkle', checkpoint_covers: 'Cakupan',
    checkpoint_covers_head: 'Checkpoint mencakup hash terakhir', checkpoint_behind: '{events} peristiwa lebih baru dari checkpoint',
    health: 'Kesehatan server', health_text: '{status}; read model di urutan {applied}, tertinggal {lag}',
    verification_note: 'Yang ditampilkan: hash terakhir (GET /v1/chain/head), checkpoint bertanda tangan terakhir (GET /tlog/checkpoint) dan /healthz. API tidak menyimpan hasil verifikasi penuh; jalankan perintah berikut pada salinan data:',
    operator_no_events: 'Peran operator tidak dapat membaca log peristiwa; gunakan token auditor.',
    event_browser: 'Penjelajah peristiwa', events: 'Peristiwa', from_sequence: 'Mulai dari urutan',
    stream_id: 'ID stream', show_events: 'Tampilkan', show_stream: 'Tampilkan stream',
    events_from: 'Peristiwa mulai urutan {from}', events_of_stream: 'Peristiwa stream {stream}',
    links_ok: 'Tautan hash {count} peristiwa yang tampil berurutan dengan benar.',
    links_broken: '{count} tautan hash tidak cocok!', col_sequence: 'Urutan', col_stream: 'Stream', col_type: 'Jenis',
    col_recorded: 'Dicatat', col_actor: 'Pelaku', col_payload: 'Isi',
    as_of_date: 'Per tanggal', apply_as_of: 'Terapkan',
    as_of_head: 'Per akhir {date} (WIB) log berakhir di urutan {sequence}, hash {hash}.',
    as_of_nothing: 'Belum ada peristiwa pada akhir {date}.',
    as_of_replay_note: 'Semua read model (kepatuhan, daftar kerja) per tanggal itu dilayani oleh perintah berikut (hanya baca):',
  },
  en: {
    skip_to_content: 'Skip to content', brand_sub: 'Buy Local Products · City of Malang', loading: 'Loading…',
    nav_label: 'Main menu', nav_dashboard: 'City dashboard', nav_operator: 'Operator desk', nav_auditor: 'Auditor',
    sign_out: 'Sign out', sign_in: 'Sign in', signin_title: 'Sign in to the Malpro console', api_token: 'API token',
    token_help: 'Tokens are issued by the Diskominfo admin. The session is kept in a secure cookie; the token is not stored in the browser.',
    token_wrong: 'Unknown token. Check it and try again.', signin_failed: 'Sign-in failed',
    session_ended: 'Your session ended. Please sign in again.',
    live_connected: 'Live', live_reconnecting: 'Reconnecting…',
    not_allowed_title: 'Not allowed', not_allowed: 'The {role} role cannot open this page.',
    no_rows: 'No data.', load_failed: 'Could not load', refresh: 'Refresh', saved: 'Saved', refused: 'Refused',
    not_served_yet: 'The server does not provide this figure yet (—).', show_table: 'Show table',
    download_csv: 'Download CSV', previous_page: 'Previous', next_page: 'Next', first_page: 'First page',
    showing_of: 'Showing {from}–{to} of {total}', updated_at: 'Updated {time}',
    dashboard_title: 'Buy Local dashboard', month: 'Month', headline_figures: 'Headline figures',
    fig_asn: 'ASN registered', fig_compliant: 'ASN compliant', fig_compliance_percent: 'Compliance rate',
    fig_committed: 'Spend recorded', fig_shortfall: 'Spend shortfall', fig_spend: 'Money circulated',
    fig_purchases: 'Purchases', fig_local_share: 'Spent in own kelurahan', fig_merchants: 'UMKM with sales',
    fig_top_decile: 'Top 10% UMKM share', fig_gini: 'Gini ratio (concentration)',
    compliance_agency: 'Compliance by OPD (agency)', compliance_rank: 'Compliance by rank class',
    col_agency: 'OPD', col_rank: 'Rank class', col_asn: 'ASN', col_compliant: 'Compliant', col_rate: 'Compliance (%)',
    col_committed: 'Spend', col_shortfall: 'Shortfall', col_minimum: 'Minimum', col_nip: 'NIP', col_name: 'Name',
    shortfalls: 'ASN short of the minimum', agency_filter: 'OPD', all_agencies: 'All OPDs',
    circulation_kecamatan: 'Circulation by kecamatan', circulation_kelurahan: 'Circulation by kelurahan',
    circulation_kelurahan_top: 'Top 15 kelurahan', col_kecamatan: 'Kecamatan', col_kelurahan: 'Kelurahan',
    col_spend: 'Spend (Rp)', col_purchases: 'Purchases', col_share: 'Share', col_date: 'Date',
    daily_trend: 'Daily spend trend', payment_mix: 'Payment mix', col_channel: 'Channel',
    channel_cod: 'COD (cash)', channel_qris: 'QRIS', channel_va: 'Virtual account', channel_receipt: 'Manual receipt',
    top_umkm: 'Top UMKM and concentration', col_umkm: 'UMKM',
    operator_title: 'Operator desk', receipt_queue: 'Receipt approval queue', col_receipt: 'Receipt',
    col_shop: 'Shop', col_amount: 'Amount', col_purchase_date: 'Purchase date', col_submitted: 'Submitted',
    col_status: 'Status', col_reason: 'Reason', status_submitted: 'Pending', status_approved: 'Approved',
    status_rejected: 'Rejected', receipt_photo_alt: 'Photo of the receipt from {shop}, {amount}', approve: 'Approve',
    reject: 'Reject', reject_reason: 'Reason for rejection', reason_required: 'Give a reason for the rejection first.',
    apply_filter: 'Apply', queue_empty: 'The queue is empty.', pending_payments: 'Pending payments',
    col_payment: 'Payment', col_bank_reference: 'Bank reference', col_age: 'Age', col_expires: 'Expires',
    exceptions: 'Exceptions (money to give back)', exceptions_open: '{open} open, {amount} in all',
    col_cause: 'Cause', col_action: 'Action', col_resolution: 'Resolution', col_note: 'Note',
    resolve: 'Resolve', resolution_refunded: 'Refunded', resolution_explained: 'Explained',
    note_required: 'Write a note first.', settlement: 'Settlement',
    outstanding: 'Not yet settled', outstanding_total: '{payments} payments: gross {gross}, fee {fee}, net {net}',
    col_payments: 'Payments', col_gross: 'Gross', col_fee: 'Fee', col_net: 'Net', col_refunds: 'Refunds',
    close_a_day: 'Close a business day', business_date: 'Business day', close_day: 'Close the day',
    view_day: 'View', day_closed: 'Day closed; its files and their hashes are recorded.', closed_days: 'Closed days',
    batch_totals: '{date}: {payments} payments, gross {gross}, fee {fee}, refunds {refunds}, net {net}',
    settlement_merchants: 'By UMKM', reconciliation: 'Bank statement reconciliation',
    statement_file: 'Statement file (camt.053, MT940, CSV)', statement_format: 'Format',
    format_detect: 'Detect', upload: 'Upload and reconcile', choose_file: 'Choose a file first.',
    statement_reconciled: 'Statement reconciled.', open_runs: 'Reconciliations with open discrepancies',
    col_statement: 'Statement', run: 'Run', col_matched: 'Matched', col_unresolved: 'Unresolved',
    col_completed: 'Completed', discrepancies: 'Discrepancies', col_kind: 'Kind', col_reference: 'Reference',
    col_statement_amount: 'At the bank', col_ledger_amount: 'In the ledger',
    run_counts: 'Matched {matched}; missing in ledger {missing_in_ledger}; missing at bank {missing_at_bank}; amount mismatch {amount_mismatch}',
    action_explain: 'Explain', action_record_payment: 'Record the payment',
    auditor_title: 'Auditor', chain_and_checks: 'Hash chain and checks', chain_head_sequence: 'Head sequence',
    chain_head_hash: 'Head hash', checkpoint_signed: 'Latest signed checkpoint',
    checkpoint_text: '{size} events, {origin}; signed by: {signers}', checkpoint_none: 'No checkpoint yet',
    checkpoint_root: 'Merkle tree root', checkpoint_covers: 'Coverage',
    checkpoint_covers_head: 'The checkpoint covers the head', checkpoint_behind: '{events} events newer than the checkpoint',
    health: 'Server health', health_text: '{status}; read models at sequence {applied}, {lag} behind',
    verification_note: 'Shown: the chain head (GET /v1/chain/head), the latest signed checkpoint (GET /tlog/checkpoint) and /healthz. The API keeps no result of a full verification; run these on a copy of the data:',
    operator_no_events: 'The operator role cannot read the event log; use an auditor token.',
    event_browser: 'Event browser', events: 'Events', from_sequence: 'From sequence',
    stream_id: 'Stream id', show_events: 'Show', show_stream: 'Show stream',
    events_from: 'Events from sequence {from}', events_of_stream: 'Events of stream {stream}',
    links_ok: 'The hash links of the {count} events shown are in order.',
    links_broken: '{count} hash links do not match!', col_sequence: 'Sequence', col_stream: 'Stream', col_type: 'Type',
    col_recorded: 'Recorded', col_actor: 'Actor', col_payload: 'Payload',
    as_of_date: 'As of date', apply_as_of: 'Apply',
    as_of_head: 'At the end of {date} (WIB) the log ended at sequence {sequence}, hash {hash}.',
    as_of_nothing: 'No event yet by the end of {date}.',
    as_of_replay_note: 'Every read model (compliance, work lists) as of that date is served, read-only, by:',
  },
};

let language = 'id';
try {
  language = localStorage.getItem(storageKey) === 'en' ? 'en' : 'id';
} catch { /* storage blocked: Indonesian */ }
document.documentElement.lang = language;

export function currentLanguage() { return language; }

export function setLanguage(next) {
  language = next === 'en' ? 'en' : 'id';
  document.documentElement.lang = language;
  try { localStorage.setItem(storageKey, language); } catch { /* not kept */ }
}

export function t(key, values = {}) {
  const text = texts[language][key] ?? texts.id[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? ''));
}

// Fills elements marked data-i18n (text) and data-i18n-aria-label in the static page.
export function applyStaticTexts() {
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const element of document.querySelectorAll('[data-i18n-aria-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
  }
}

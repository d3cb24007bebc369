"""A labelled set of photos of text as Chinese-speaking users take them (Taiwan and Hong Kong receipts and
signs in Traditional characters, mainland ones in Simplified, full-width digits, amounts, phone
numbers, product codes, licence plates, dates, Japanese station signs and menus), with queries in
categories and the photos a person wants for each (best first where one is clearly best).

The photos are rendered (tests/support/imagegen.py) and read by the sidecar's OCR before they are searched, as
a user's photos are; `scripts/eval_ocr_search.py` prints the per-category table.
"""

from __future__ import annotations

from .imagegen import TextImage

PHOTOS: tuple[TextImage, ...] = (
    # Taiwan and Hong Kong, Traditional
    TextImage("tw-library", ("臺北市立圖書館", "開放時間 週二至週日 08:30-21:00", "借書證 請至一樓櫃檯辦理")),
    TextImage("tw-hsr-ticket", ("台灣高鐵 車票", "台北 → 左營", "2024/03/15 08:30", "7車 12A 票價 NT$1,490")),
    TextImage("tw-invoice", ("統一發票 電子發票證明聯", "發票號碼 AB-12345678", "總計 ＄３２０", "隨機碼 ５８２１")),
    TextImage("tw-bank", ("臺灣銀行 存款憑條", "帳號 012-345-678901", "金額 NT$ 25,000", "中華民國113年3月15日")),
    TextImage("hk-menu", ("茶餐廳 餐牌", "菠蘿包 HK$12", "凍檸茶 HK$18", "叉燒飯 HK$46")),
    TextImage("hk-hospital", ("瑪麗醫院 急症室", "請先登記 再候診", "查詢電話 (852) 2255 3838")),
    TextImage("tw-station", ("臺北車站 Taipei Main Station", "往 桃園機場 捷運", "高鐵 臺鐵 出口M3")),
    TextImage("hk-receipt", ("百佳超級市場 收據", "牛奶 HK$23.50", "麵包 HK$15.90", "總數 HK$39.40")),
    TextImage("tw-univ", ("國立臺灣大學 圖書館", "總圖書館 自習室", "請保持安靜")),
    TextImage("hk-notice", ("注意 地下停車場", "車輛高度限制 2.1米", "閉路電視 監察中")),
    TextImage("tw-coffee", ("咖啡廳 菜單", "美式咖啡 NT$90", "拿鐵咖啡 NT$120", "蛋糕 NT$150")),
    TextImage("hk-airport", ("香港國際機場 一號客運大樓", "離港 Departures", "登機閘口 1-80")),
    # Mainland, Simplified
    TextImage("cn-library", ("上海图书馆", "阅览室 请保持安静", "借书证办理")),
    TextImage("cn-invoice", ("增值税电子普通发票", "发票号码 24312000000012345678", "价税合计 ￥8,888.00")),
    TextImage("cn-hospital", ("北京协和医院 门诊", "挂号收费处", "咨询电话 010-6915 6114")),
    TextImage("cn-train", ("火车票 G1234次", "上海虹桥 → 北京南", "2024年3月15日 08:00开", "二等座 ¥553.0")),
    TextImage("cn-plate-gd", ("粤B·88888", "深圳 停车缴费"), font_size=72),
    TextImage("cn-plate-bj", ("京A·12345", "北京 小客车"), font_size=72),
    TextImage("cn-plate-sh", ("沪C 7K321", "上海 临时停车"), font_size=72),
    TextImage("cn-express", ("顺丰速运 运单", "运单号 SF 1234 5678 9012", "收件人 王伟 138 1234 5678")),
    TextImage("cn-product", ("产品型号 XK9-77B", "额定电压 220V~50Hz", "生产日期 2023.11.08")),
    TextImage("cn-sku", ("货号 AB-1234-CD", "颜色 黑色 尺码 XL", "吊牌价 ￥1,299")),
    TextImage("cn-flight", ("登机牌 BOARDING PASS", "航班 CA1234 北京 → 上海", "座位 32K 登机口 B12")),
    TextImage("cn-fullwidth-wifi", ("ＷｉＦｉ 密码：ＡＢＣ１２３４", "客服 ４００－８２０－８８２０")),
    TextImage("cn-receipt", ("便利店 购物小票", "矿泉水 ×2 ￥6.00", "合计 ￥36.50", "2024-03-15 21:08")),
    TextImage("cn-hainan", ("海南三亚 天涯海角", "旅游纪念 2023年春节")),
    TextImage("cn-shanghai-south", ("上海南站", "地铁1号线 3号线", "出租车上客点")),
    TextImage("cn-nanjing-road", ("南京路步行街", "欢迎光临")),
    TextImage("cn-nanjing-univ", ("南京大学 仙林校区", "图书馆 开放时间 8:00-22:00")),
    TextImage("cn-bank-card", ("中国工商银行", "6222 0210 0000 1234", "客服热线 95588")),
    TextImage("cn-phone-sign", ("外卖电话 13812345678", "满30元免费配送")),
    TextImage("cn-notice-date", ("关于2024年国庆节放假的通知", "10月1日至7日放假 共7天")),
    # Japanese
    TextImage("jp-shinjuku", ("新宿駅 東口", "JR線 のりかえ", "Shinjuku Station")),
    TextImage("jp-tokyo", ("東京駅 丸の内南口", "きっぷうりば", "新幹線 のりば")),
    TextImage("jp-coffee", ("コーヒー 400円", "カフェラテ 450円", "ケーキセット 800円")),
    TextImage("jp-sushi", ("すし 大江戸", "まぐろ 200円", "サーモン 180円")),
    TextImage("jp-ramen", ("ラーメン 一蘭", "とんこつ 980円", "替玉 210円")),
    TextImage("jp-shibuya", ("渋谷駅 ハチ公口", "出口 B5", "東急 田園都市線")),
    # Mixed and hard to read
    TextImage("mixed-hk-tw-trip", ("香港 → 臺北 機票", "國泰航空 CX400", "2024.03.15 10:45")),
    TextImage("small-tw-receipt", ("全家便利商店", "茶葉蛋 ×2 NT$20", "統一編號 12345678"), font_size=28),
    TextImage("grey-tw-sign", ("臺中市政府 警察局", "報案專線 110"), background="#d9d9d9", foreground="#333333"),
    TextImage("rotated-jp-menu", ("うどん 500円", "そば 550円", "天ぷら 300円"), rotate=4),
    # Spellings: small kana as OCR often reads them (full-size), a Taiwan statement (帳 for 账), a mainland bill
    TextImage("jp-shop-ocr", ("シヨツプ 新宿店", "営業時間 10:00-21:00")),
    TextImage("tw-statement", ("信用卡 對帳單", "本期應繳金額 NT$3,200")),
    TextImage("cn-alipay", ("支付宝账单", "三月 消费明细")),
    # Typed order: a run of several words held together in one photo, apart in a shorter one
    TextImage("cn-alipay-apart", ("账单 已出", "支付宝 扫码付款")),
    TextImage("cn-ticket-machine", ("自助售票机 使用说明", "支持 现金 扫码 银联卡", "每次 限购 五张")),
    TextImage("cn-ticket-apart", ("售票机", "自助 服务区")),
    TextImage("tw-member", ("會員積分 兌換專區", "滿500 送50 點", "限 本店 使用")),
    TextImage("tw-member-apart", ("積分", "會員 專屬")),
    # Nested words: a name the dictionary holds whole, with a word two levels inside (动物 in 动物园)
    TextImage("cn-zoo", ("上海野生动物园", "成人票 130元 儿童票 65元")),
)

# query -> (category, relevant photos, first one the best where that matters)
QUERIES: dict[str, tuple[str, list[str]]] = {
    # Simplified query, Traditional text
    "图书馆": ("traditional", ["cn-library", "tw-library", "tw-univ", "cn-nanjing-univ"]),
    "台北": ("traditional", ["tw-station", "tw-hsr-ticket", "tw-library", "mixed-hk-tw-trip"]),
    "台湾": ("traditional", ["tw-hsr-ticket", "tw-bank", "tw-univ"]),
    "车票": ("traditional", ["tw-hsr-ticket", "cn-train"]),
    "发票": ("traditional", ["tw-invoice", "cn-invoice"]),
    "医院": ("traditional", ["hk-hospital", "cn-hospital"]),
    "银行": ("traditional", ["tw-bank", "cn-bank-card"]),
    "机场": ("traditional", ["hk-airport", "tw-station"]),
    "停车场": ("traditional", ["hk-notice"]),
    "面包": ("traditional", ["hk-receipt"]),
    "拿铁": ("traditional", ["tw-coffee"]),
    "收据": ("traditional", ["hk-receipt"]),
    "电话": ("traditional", ["hk-hospital", "cn-hospital", "cn-phone-sign"]),
    "高铁": ("traditional", ["tw-hsr-ticket", "tw-station"]),
    "警察局": ("traditional", ["grey-tw-sign"]),
    "国泰航空": ("traditional", ["mixed-hk-tw-trip"]),
    # Traditional query, Simplified text (and Traditional text, exact first)
    "圖書館": ("simplified", ["tw-library", "tw-univ", "cn-library", "cn-nanjing-univ"]),
    "發票": ("simplified", ["tw-invoice", "cn-invoice"]),
    "醫院": ("simplified", ["hk-hospital", "cn-hospital"]),
    "門診": ("simplified", ["cn-hospital"]),
    "電話": ("simplified", ["hk-hospital", "cn-hospital", "cn-phone-sign"]),
    "購物": ("simplified", ["cn-receipt"]),
    "閱覽室": ("simplified", ["cn-library"]),
    "運單": ("simplified", ["cn-express"]),
    "臺灣": ("simplified", ["tw-bank", "tw-hsr-ticket", "tw-univ"]),
    "銀行": ("simplified", ["tw-bank", "cn-bank-card"]),
    # numbers: amounts, phone numbers, dates, card numbers
    "8888": ("numbers", ["cn-invoice", "cn-plate-gd"]),  # 88888 holds it too
    "8,888.00": ("numbers", ["cn-invoice"]),
    "1490": ("numbers", ["tw-hsr-ticket"]),
    "25000": ("numbers", ["tw-bank"]),
    "39.40": ("numbers", ["hk-receipt"]),
    "13812345678": ("numbers", ["cn-express", "cn-phone-sign"]),
    "138-1234-5678": ("numbers", ["cn-express", "cn-phone-sign"]),
    "2255 3838": ("numbers", ["hk-hospital"]),
    "4008208820": ("numbers", ["cn-fullwidth-wifi"]),
    "69156114": ("numbers", ["cn-hospital"]),
    "2024-03-15": ("numbers", ["cn-receipt", "cn-train", "tw-hsr-ticket", "mixed-hk-tw-trip"]),
    "2023年11月8日": ("numbers", ["cn-product"]),
    "6222021000001234": ("numbers", ["cn-bank-card"]),
    # codes: product codes, plates, tracking numbers, flights
    "XK9-77B": ("codes", ["cn-product"]),
    "K9-7": ("codes", ["cn-product"]),
    "xk977b": ("codes", ["cn-product"]),
    "AB-1234-CD": ("codes", ["cn-sku"]),
    "1234-CD": ("codes", ["cn-sku"]),
    "粤B88888": ("codes", ["cn-plate-gd"]),
    "粤B·88888": ("codes", ["cn-plate-gd"]),
    "京A12345": ("codes", ["cn-plate-bj"]),
    "沪C7K321": ("codes", ["cn-plate-sh"]),
    "SF123456789012": ("codes", ["cn-express"]),
    "CA1234": ("codes", ["cn-flight"]),
    "CX400": ("codes", ["mixed-hk-tw-trip"]),
    "AB-12345678": ("codes", ["tw-invoice"]),
    # full-width text and queries
    "ＡＢＣ１２３４": ("fullwidth", ["cn-fullwidth-wifi"]),
    "abc1234": ("fullwidth", ["cn-fullwidth-wifi"]),
    "wifi": ("fullwidth", ["cn-fullwidth-wifi"]),
    "320": ("fullwidth", ["tw-invoice"]),
    "５８２１": ("fullwidth", ["tw-invoice"]),
    # Japanese
    "新宿駅": ("japanese", ["jp-shinjuku"]),
    "東京駅": ("japanese", ["jp-tokyo"]),
    "コーヒー": ("japanese", ["jp-coffee"]),
    "すし": ("japanese", ["jp-sushi"]),
    "ラーメン": ("japanese", ["jp-ramen"]),
    "渋谷": ("japanese", ["jp-shibuya"]),
    "きっぷ": ("japanese", ["jp-tokyo"]),
    "円": ("japanese", ["jp-coffee", "jp-sushi", "jp-ramen", "rotated-jp-menu"]),
    "うどん": ("japanese", ["rotated-jp-menu"]),
    # every spelling: small and full-size kana, a Traditional character that serves for two Simplified ones
    "ショップ": ("spellings", ["jp-shop-ocr"]),
    "对账单": ("spellings", ["tw-statement"]),
    "账单": ("spellings", ["cn-alipay", "tw-statement", "cn-alipay-apart"]),
    # the words together as typed first (the shorter photo holding them apart ranks lower)
    "支付宝账单": ("order", ["cn-alipay"]),
    "自助售票机": ("order", ["cn-ticket-machine"]),
    "会员积分": ("order", ["tw-member"]),
    # a word inside a word inside a name (上海野生动物园: 上海 野生 动物园; 动物园: 动物; 上海图书馆: 图书馆: 图书)
    "动物": ("nested", ["cn-zoo"]),
    "图书": ("nested", ["cn-library", "tw-library", "tw-univ", "cn-nanjing-univ"]),
    # Chinese precision must not suffer
    "海南": ("precision", ["cn-hainan"]),
    "南京": ("precision", ["cn-nanjing-road", "cn-nanjing-univ"]),
    "上海南站": ("precision", ["cn-shanghai-south"]),
    "请保持安静": ("precision", ["cn-library", "tw-univ"]),
    "放假": ("precision", ["cn-notice-date"]),
}

# Queries whose characters stand side by side in a photo that is not about them.
MUST_NOT_MATCH: dict[str, list[str]] = {
    "海南": ["cn-shanghai-south"],
    "南京": ["cn-shanghai-south"],
}

CATEGORIES = (
    "traditional",
    "simplified",
    "numbers",
    "codes",
    "fullwidth",
    "japanese",
    "spellings",
    "order",
    "nested",
    "precision",
)

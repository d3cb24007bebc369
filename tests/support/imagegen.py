"""Test images with Chinese text, drawn with Debian's WenQuanYi Zen Hei font (fonts-wqy-zenhei)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = [Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")]


def font_path() -> Path | None:
    return next((path for path in FONT_PATHS if path.is_file()), None)


@dataclass(frozen=True)
class TextImage:
    name: str
    lines: tuple[str, ...]
    size: tuple[int, int] = (1000, 800)
    font_size: int = 40
    rotate: float = 0.0  # degrees, counter-clockwise, canvas expanded
    background: str = "white"
    foreground: str = "black"
    exif_orientation: int = 0  # store the pixels turned and let the EXIF tag say how to show them

    def render(self) -> Image.Image:
        path = font_path()
        if path is None:
            raise RuntimeError("CJK font missing: apt-get install fonts-wqy-zenhei")
        font = ImageFont.truetype(str(path), self.font_size)
        image = Image.new("RGB", self.size, self.background)
        draw = ImageDraw.Draw(image)
        step = int(self.font_size * 1.8)
        for index, line in enumerate(self.lines):
            draw.text((max(20, self.size[0] // 20), 40 + index * step), line, fill=self.foreground, font=font)
        if self.rotate:
            image = image.rotate(self.rotate, expand=True, fillcolor=self.background, resample=Image.Resampling.BICUBIC)
        return image

    def jpeg(self, quality: int = 92) -> bytes:
        image = self.render()
        buffer = io.BytesIO()
        if self.exif_orientation == 6:
            # Orientation 6: the viewer turns the stored pixels 90 degrees clockwise to show them.
            stored = image.transpose(Image.Transpose.ROTATE_90)
            exif = Image.Exif()
            exif[0x0112] = 6
            stored.save(buffer, "JPEG", quality=quality, exif=exif)
        else:
            image.save(buffer, "JPEG", quality=quality)
        return buffer.getvalue()


OCR_CORPUS: tuple[TextImage, ...] = (
    TextImage(
        "vat-invoice", ("上海增值税专用发票", "发票号码 12345678", "开票日期 2024年3月15日", "价税合计 ¥1,280.00")
    ),
    TextImage(
        "receipt", ("星巴克咖啡 南京西路店", "拿铁 大杯 ×2  ¥68.00", "会员卡号 6222 0210", "谢谢惠顾 欢迎再次光临")
    ),
    TextImage(
        "shop-sign", ("老北京炸酱面", "营业时间 10:00-22:00"), font_size=72, background="#b22222", foreground="white"
    ),
    TextImage("menu", ("今日菜单", "宫保鸡丁 38元", "麻婆豆腐 22元", "西红柿炒鸡蛋 18元", "米饭 2元")),
    TextImage(
        "train-ticket", ("G1234次 上海虹桥站 → 北京南站", "2024年05月01日 08:00开", "07车 12F号 二等座", "¥553.0元 网")
    ),
    TextImage("hospital", ("复旦大学附属华山医院", "门诊收费票据", "挂号费 20.00 诊疗费 30.00")),
    TextImage(
        "street-sign",
        ("世纪公园 Century Park", "地铁2号线 出口3"),
        font_size=56,
        background="#1f4e8c",
        foreground="white",
    ),
    TextImage("notice", ("关于2024年春节放假的通知", "各部门: 根据国务院办公厅通知", "2月10日至17日放假调休 共8天")),
    TextImage("mixed", ("Wi-Fi 密码: Immich2024", "请扫码关注 @immich_app", "客服电话 400-820-8820")),
    TextImage(
        "small-lines",
        ("北京市朝阳区建国路88号", "邮政编码 100022", "联系人 张伟 13800138000"),
        size=(600, 300),
        font_size=22,
    ),
    TextImage("rotated-5", ("机场大巴时刻表", "浦东机场 → 人民广场", "首班 07:00 末班 23:00"), rotate=5),
    TextImage("rotated-upside-down", ("禁止吸烟 违者罚款", "No Smoking"), font_size=56, rotate=180),
    TextImage("exif-rotated", ("电影票 万达影城", "3号厅 7排8座", "票价 45元"), exif_orientation=6),
    TextImage(
        "dark-on-light-grey",
        ("快递单号 SF1234567890", "收件人 李娜 上海市徐汇区"),
        background="#dddddd",
        foreground="#222222",
    ),
)
